"""A plain statement of what is wrong with the connection to Ollama, and what to do."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static


class ConnectionBanner(Static):
    """Hidden while Ollama answers."""

    def show_unreachable(self, url: str, detail: str) -> None:
        """Say which URL cannot be reached and how to fix it; retries continue meanwhile."""
        self.update(
            Content.assemble(
                (f"Cannot reach Ollama at {url}", "bold"),
                f" ({detail}).\n",
                "Start it with `ollama serve` or the Ollama app (install it from ollama.com), "
                "or point ollamon at it with --host or OLLAMA_HOST. Retrying…",
            )
        )
        self.display = True

    def show_not_ollama(self, message: str, hint: str) -> None:
        """Something answers at the URL, but not as Ollama: starting Ollama would not help."""
        self.update(Content.assemble((message[:1].upper() + message[1:], "bold"), ".\n", f"{hint} Retrying…"))
        self.display = True

    def hide(self) -> None:
        """Ollama answers again."""
        self.display = False
