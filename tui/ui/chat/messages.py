"""The turns of the conversation as widgets: the user's prompt, the model's answer, notes."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Collapsible, Static

from tui.core import units
from tui.core.ollama.stats import DoneStats
from tui.perf.sized_by_layout import SizedByLayout


class UserMessage(Static):
    """What the user sent, shown literally."""

    def __init__(self, prompt: str) -> None:
        super().__init__(Content(prompt), classes="message user")
        self.border_title = "You"


class NoteMessage(Static):
    """A line from ollamon itself: a model loaded, an error, a hint."""

    def __init__(self, text: str, *, error: bool = False) -> None:
        super().__init__(Content(text), classes="message note" + (" error" if error else ""))


class AssistantMessage(SizedByLayout, Vertical):
    """One streamed answer: thinking in a collapsible section, then the answer as Markdown.

    Deltas are queued and handed to the Markdown when the owner calls `flush` (a few times a
    second): re-rendering on every token would take the CPU the measured model needs.
    """

    # Focusable (Tab, or a click) so that the copy key can take this answer, not only the last.
    can_focus = True

    def __init__(self, model: str) -> None:
        super().__init__(classes="message assistant")
        self.border_title = model
        self.answer_text = ""
        self.thinking_text = ""
        self._pending_thinking = ""
        self._pending_answer = ""
        self._thinking_open = False

    def compose(self) -> ComposeResult:
        # Here, not at the top: the Markdown parser is not needed before the first answer, and
        # importing it would delay the app's first paint.
        from tui.ui.chat.markdown_text import MarkdownText

        self._thinking = MarkdownText(classes="thinking-text")
        self._answer = MarkdownText(classes="answer-text")
        with Collapsible(title="Thinking…", collapsed=False, classes="thinking"):
            yield self._thinking
        yield self._answer
        yield Static(classes="outcome")

    def on_mount(self) -> None:
        self.query_one(".thinking", Collapsible).display = False
        # Shown by finish(); until then an empty line would sit under the text being written.
        self.query_one(".outcome", Static).display = False

    def add_thinking(self, text: str) -> None:
        """Queue reasoning text."""
        self.thinking_text += text
        self._pending_thinking += text

    def add_answer(self, text: str) -> None:
        """Queue answer text."""
        self.answer_text += text
        self._pending_answer += text

    async def answer_was_thinking(self, text: str) -> None:
        """A lone </think> turned the answer so far into reasoning: move it."""
        self._pending_answer = ""
        await self.flush()
        self._answer.clear()
        self.answer_text = ""
        self.add_thinking(text)

    async def flush(self) -> None:
        """Hand queued text to the Markdown (thinking first)."""
        thinking, self._pending_thinking = self._pending_thinking, ""
        answer, self._pending_answer = self._pending_answer, ""
        if thinking:
            if not self._thinking_open:
                self._thinking_open = True
                self.query_one(".thinking", Collapsible).display = True
            self._thinking.write(thinking)
        if answer:
            # The thinking section folds away when the answer starts.
            await self._close_thinking()
            self._answer.write(answer)

    async def _close_thinking(self) -> None:
        if not self._thinking_open:
            return
        self._thinking_open = False
        self._thinking.end()
        section = self.query_one(".thinking", Collapsible)
        section.collapsed = True
        self._title_thinking()

    def toggle_thinking(self) -> bool:
        """Open the folded reasoning, or fold it; False where this answer has none to show."""
        section = self.query_one(".thinking", Collapsible)
        if self._thinking_open or not section.display:
            return False
        section.collapsed = not section.collapsed
        self._title_thinking()
        return True

    def _title_thinking(self) -> None:
        """Say what Enter (on the title) or ctrl+t (anywhere) does to the finished section now."""
        section = self.query_one(".thinking", Collapsible)
        section.title = f"Thinking · Enter {'opens' if section.collapsed else 'closes'}"

    def on_collapsible_expanded(self, event: Collapsible.Expanded) -> None:
        if not self._thinking_open:
            self._title_thinking()

    def on_collapsible_collapsed(self, event: Collapsible.Collapsed) -> None:
        if not self._thinking_open:
            self._title_thinking()

    async def finish(self, outcome: str, *, error: bool = False) -> None:
        """Render all that came and show how the turn ended."""
        await self.flush()
        await self._close_thinking()
        self._answer.end()
        # Drop the lines drawn while streaming: a finished answer keeps its text, not its pixels.
        self._thinking.release()
        self._answer.release()
        line = self.query_one(".outcome", Static)
        line.update(Content(outcome))
        line.set_class(error, "error")
        line.display = True


def outcome_line(total: float, chars_per_s: float | None, stats: DoneStats | None) -> str:
    """The line under a finished answer: time, tok/s, chars/s, and what was odd."""
    parts = [units.seconds(total)]
    if stats is None:
        parts.append("no final stats from Ollama (figures estimated)")
    else:
        if stats.eval_rate is not None:
            parts.append(f"{stats.eval_rate:.1f} tok/s")
        if stats.done_reason == "length":
            parts.append("stopped at num_predict (length)")
    if chars_per_s is not None:
        parts.append(f"{chars_per_s:.1f} chars/s")
    return " · ".join(parts)
