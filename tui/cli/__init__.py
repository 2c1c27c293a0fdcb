"""Command line: the app, and the headless commands on the same core."""
