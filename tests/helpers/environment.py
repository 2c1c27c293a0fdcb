"""The environment a test runs in: what leaks in from the user's shell, and where data may go."""

from __future__ import annotations

from pathlib import Path

LEAKY_VARIABLES = ("OLLAMA_HOST", "NO_COLOR", "TEXTUAL", "OLLAMON_DB", "OLLAMA_API_KEY", "OLLAMON_NO_TUNING")


def neutral_directories(root: Path) -> dict[str, str]:
    """Data and config directories under `root`, never the user's own."""
    return {"XDG_DATA_HOME": str(root / "xdg-data"), "XDG_CONFIG_HOME": str(root / "xdg-config")}
