"""The floors: bare Textual apps doing the same visible work as ollamon, run beside it.

  paint   Select, Static, Input and Footer: launch to first paint.
  models  the paint floor, then the official client imported after the first frame, /api/tags
          asked, the names put in the Select and "N models" shown: what any app built on the
          `ollama` package pays before model names can appear.
  idle    four bordered panels of five figures and a sparkline, refreshed each second, and a
          focused Input whose cursor blinks (ollamon's prompt blinks too).
  stream  each streamed token written into one Markdown with `Markdown.get_stream`, the way
          Textual's docs and chat apps do; Enter in the Input sends the prompt.
  receive the stream floor drawing nothing: what receiving the tokens with the official client
          costs a Textual app before any of them is shown.
Run: python -m bench.floors paint|models|idle|stream|receive --host URL [--model NAME]
"""

from __future__ import annotations

import argparse
import math
import time
from collections import deque
from collections.abc import Callable

from rich.table import Table
from rich.text import Text
from textual.app import App, ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Footer, Input, Markdown, Select, Static

BARS = " ▁▂▃▄▅▆▇█"


class PaintFloor(App[None]):
    CSS = "#timers { border: round $primary; height: auto; }"

    def compose(self) -> ComposeResult:
        yield Select([], prompt="Choose a model")
        panel = Static("state idle", id="timers")
        panel.border_title = "Timers"
        yield panel
        yield Input(placeholder="Ask something")
        yield Footer()


class ModelsFloor(PaintFloor):
    def __init__(self, host: str) -> None:
        super().__init__()
        self._host = host

    def on_mount(self) -> None:
        self.call_after_refresh(self.run_worker, self._list())

    async def _list(self) -> None:
        from ollama import AsyncClient

        listing = await AsyncClient(self._host).list()
        names = [item.model or "" for item in listing.models]
        self.query_one(Select).set_options((name, name) for name in names)
        self.query_one("#timers", Static).update(f"{len(names)} models")


class Panel(Static):
    DEFAULT_CSS = "Panel { border: round $primary; height: auto; }"

    def __init__(self, title: str, phase: float) -> None:
        super().__init__()
        self.border_title = title
        self._phase = phase
        self._history: deque[float] = deque(maxlen=22)

    def tick(self, now: float) -> None:
        self._history.append(1 + math.sin(now / 7 + self._phase))
        grid = Table.grid(expand=True)
        grid.add_column(style="dim")
        grid.add_column(justify="right")
        for row in range(5):
            grid.add_row(f"figure {row}", f"{(now * (row + 1) + self._phase) % 1000:.1f}")
        top = max(self._history)
        grid.add_row("", Text("".join(BARS[round(value / top * 8)] for value in self._history), style="green"))
        self.update(grid, layout=False)


class IdleFloor(App[None]):
    CSS = "#panels { width: 40; } #left { width: 1fr; }"

    def compose(self) -> ComposeResult:
        with Horizontal():
            with Vertical(id="left"):
                yield Static("Timers", id="chat")
                yield Input(placeholder="Ask something")
            with Vertical(id="panels"):
                for index, title in enumerate(("Timers", "Processor", "Memory", "Power")):
                    yield Panel(title, index)

    def on_mount(self) -> None:
        self.query_one(Input).focus()
        self._tick()
        self.set_interval(1.0, self._tick)

    def _tick(self) -> None:
        now = time.time()
        for panel in self.query(Panel):
            panel.tick(now)


class StreamFloor(App[None]):
    def __init__(self, host: str, model: str) -> None:
        super().__init__()
        self._host, self._model = host, model

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Markdown("Timers", open_links=False)
        yield Input(placeholder="Ask something")

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).anchor()
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.run_worker(self._answer(event.value))

    async def _answer(self, prompt: str) -> None:
        from ollama import AsyncClient

        stream = Markdown.get_stream(self.query_one(Markdown))
        chunks = await AsyncClient(self._host).chat(
            self._model, messages=[{"role": "user", "content": prompt}], stream=True
        )
        async for chunk in chunks:
            await stream.write(chunk.message.content or "")
        await stream.stop()


class ReceiveFloor(StreamFloor):
    async def _answer(self, prompt: str) -> None:
        from ollama import AsyncClient

        chunks = await AsyncClient(self._host).chat(
            self._model, messages=[{"role": "user", "content": prompt}], stream=True
        )
        self.received = "".join([chunk.message.content or "" async for chunk in chunks])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("floor", choices=("paint", "models", "idle", "stream", "receive"))
    parser.add_argument("--host", default="http://127.0.0.1:11434")
    parser.add_argument("--model", default="bench:long")
    args = parser.parse_args()
    floors: dict[str, Callable[[], App[None]]] = {
        "paint": PaintFloor,
        "models": lambda: ModelsFloor(args.host),
        "idle": IdleFloor,
        "stream": lambda: StreamFloor(args.host, args.model),
        "receive": lambda: ReceiveFloor(args.host, args.model),
    }
    floors[args.floor]().run()


if __name__ == "__main__":
    main()
