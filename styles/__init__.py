"""Textual stylesheets, shipped inside the package as tui.styles."""
