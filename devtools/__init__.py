"""Development helpers shared by tests and bench scripts; never shipped in the wheel."""
