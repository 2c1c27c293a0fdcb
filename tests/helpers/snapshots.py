"""The snapshot tests' shared type."""

from __future__ import annotations

from collections.abc import Callable

# The snap_compare fixture: pytest-textual-snapshot declares it as taking the app alone, but it also
# takes press, terminal_size and run_before.
SnapCompare = Callable[..., bool]
