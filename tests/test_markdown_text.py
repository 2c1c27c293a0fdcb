"""The streamed-Markdown widget keeps room for lines to come, so most writes need no new layout."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.pilot import Pilot

from tui.ui.chat.markdown_text import ROOM_SHARE, ROOM_STEP, MarkdownText

SIZE = (40, 30)
STEP = SIZE[1] // ROOM_SHARE  # the room grows by a share of the screen's height


class OneText(App[None]):
    def compose(self) -> ComposeResult:
        yield MarkdownText(classes="answer-text")


def _words(first: int, count: int) -> str:
    return " ".join(f"w{n}" for n in range(first, first + count))


async def _write(pilot: Pilot[None], text: MarkdownText, markdown: str) -> None:
    """Write and let the app lay out and draw."""
    text.write(markdown)
    await pilot.pause()


async def test_writes_that_fit_the_room_keep_the_height() -> None:
    """Writes that fit the room kept keep the widget's height and place, and show the whole text."""
    app = OneText()
    async with app.run_test(size=SIZE) as pilot:
        text = app.query_one(MarkdownText)
        await _write(pilot, text, "one two")
        assert text.size.height == STEP
        region_before = text.region
        await _write(pilot, text, " three\n\nfour")
        assert text.region == region_before
        assert text.shown == "one two three\n\nfour"


async def test_a_write_past_the_room_grows_it_by_a_step() -> None:
    """A write past the room grows it by one step, not to the text's exact height."""
    app = OneText()
    async with app.run_test(size=SIZE) as pilot:
        text = app.query_one(MarkdownText)
        await _write(pilot, text, "\n\n".join(_words(n, 2) for n in range(4)))  # 4 blocks: 7 lines with the gaps
        assert STEP < 7 <= 2 * STEP
        assert text.size.height == 2 * STEP
        assert len(text.shown.splitlines()) == 7


async def test_on_a_small_screen_the_room_is_a_few_lines() -> None:
    """On a small screen the room kept is a few lines."""
    app = OneText()
    async with app.run_test(size=(40, 12)) as pilot:
        text = app.query_one(MarkdownText)
        await _write(pilot, text, "one")
        assert text.size.height == ROOM_STEP


async def test_the_end_gives_the_room_back() -> None:
    """The end gives the room back: the text is its own height, and later writes keep it so."""
    app = OneText()
    async with app.run_test(size=SIZE) as pilot:
        text = app.query_one(MarkdownText)
        await _write(pilot, text, "one two")
        text.end()
        await pilot.pause()
        assert text.size.height == 1
        await _write(pilot, text, " three")  # after the end a write lays out to the text's own height
        assert text.size.height == 1 and text.shown == "one two three"
