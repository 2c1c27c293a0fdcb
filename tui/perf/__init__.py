"""Speed and memory tuning as one subsystem: hooks, the switch that turns it off, the Textual internals it needs.

See docs/performance.md. Only `drawn_lines`, `keys_footer` and `sized_by_layout` import Textual.
"""
