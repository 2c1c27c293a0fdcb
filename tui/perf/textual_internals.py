"""The Textual internals ollamon relies on: private names, and behaviours Textual does not promise.

Each was read in the pinned release. tests/test_textual_internals.py fails when another Textual is
installed (listing these to re-check) and when a name, or its parameters, is gone. Moving the pin
means reading each entry's `why` against the new release, then changing PINNED_TEXTUAL and the
pin in pyproject.toml together.
"""

from __future__ import annotations

from dataclasses import dataclass

PINNED_TEXTUAL = "8.2.8"


@dataclass(frozen=True)
class TextualInternal:
    """One thing of Textual's that a module of ours relies on, and why."""

    module: str
    name: str  # dotted from `module`; with `on_instance`, the last part is set on each instance
    used_by: str  # our module (or test) that relies on it
    why: str
    # The parameters relied on, as inspect.signature names them; None where they do not matter.
    parameters: tuple[str, ...] | None = None
    attributes: tuple[str, ...] = ()  # what it must still have
    on_instance: bool = False  # set in __init__: looked up on an instance made without arguments

    @property
    def where(self) -> str:
        return f"{self.module}.{self.name}"


INTERNALS: tuple[TextualInternal, ...] = (
    TextualInternal(
        "textual._styles_cache",
        "StylesCache.get_inner_outer",
        "tui.perf.drawn_lines",
        "an lru_cache on a method, so app-wide: it keeps the StylesCache of gone widgets; "
        "forget_gone_widgets empties it with cache_clear",
        attributes=("cache_clear",),
    ),
    TextualInternal(
        "textual.widget",
        "Widget._set_dirty",
        "tui.perf.drawn_lines",
        "with no region it empties the widget's StylesCache: what makes forget_drawn's refresh() drop drawn lines",
        parameters=("self", "regions"),
    ),
    TextualInternal(
        "textual.widget",
        "Widget._styles_cache",
        "tests/test_app_chat.py",
        "each widget's cache of drawn lines: the tests count its lines and the caches no widget owns",
        on_instance=True,
    ),
    TextualInternal(
        "textual._styles_cache",
        "StylesCache._cache",
        "tests/test_app_chat.py",
        "the drawn lines a StylesCache keeps, counted by the tests",
        on_instance=True,
    ),
    TextualInternal(
        "textual.widgets._footer",
        "FooterKey",
        "tui.perf.keys_footer",
        "the key widget Footer.compose yields; KeysFooter mounts and removes single keys made as compose makes them",
        parameters=("key", "key_display", "description", "action", "disabled", "tooltip", "classes"),
    ),
    TextualInternal(
        "textual.widgets",
        "Footer.compose",
        "tui.perf.keys_footer",
        "KeysFooter's single-key change mimics it: one column per shown action (grid_size_columns), "
        "grouped keys in a KeyGroup, only the first key of an action, the palette key from a hidden binding",
        parameters=("self",),
    ),
    TextualInternal(
        "textual.widgets",
        "Footer._bindings_ready",
        "tui.perf.keys_footer",
        "a private reactive: Footer.compose draws nothing until it is set, and KeysFooter reads it the same way",
    ),
    TextualInternal(
        "textual.widgets",
        "Footer.bindings_changed",
        "tui.perf.keys_footer",
        "on every bindings update it calls recompose (after a refresh), which KeysFooter overrides",
        parameters=("self", "screen"),
    ),
    TextualInternal(
        "textual.widgets",
        "Footer.compact",
        "tui.perf.keys_footer",
        "a reactive each key is data-bound to; a removed key's watcher goes only when it changes, "
        "so KeysFooter mutates it after a rebuild or a removal",
    ),
    TextualInternal(
        "textual.binding",
        "ActiveBinding",
        "tui.perf.keys_footer",
        "the values of screen.active_bindings, unpacked in this order as Footer.compose does",
        parameters=("node", "binding", "enabled", "tooltip"),
    ),
    TextualInternal(
        "textual.widget",
        "Widget._size_updated",
        "tui.perf.sized_by_layout",
        "overridden to pass layout=False: the new virtual size is then set without asking for another layout",
        parameters=("self", "size", "virtual_size", "container_size", "layout"),
    ),
    TextualInternal(
        "textual.widget",
        "Widget.virtual_size",
        "tui.perf.sized_by_layout",
        "a layout reactive: set in _size_updated with layout=True it asks for a second layout",
    ),
    TextualInternal(
        "textual.screen",
        "Screen._get_breakpoint_classes",
        "tui.app",
        "the rule breakpoint_classes mimics to set the classes in compose, before Textual's first Resize sets them",
        parameters=("self", "dimension", "breakpoints"),
    ),
    TextualInternal(
        "textual.widgets",
        "TextArea._on_key",
        "tui.ui.chat.prompt",
        "overridden so that Enter sends the prompt; every other key goes on to TextArea's handler",
        parameters=("self", "event"),
    ),
    TextualInternal(
        "textual.drivers.web_driver",
        "WebDriver.run_input_thread",
        "tui.ui.served",
        "returns when stdin ends (the server gone) without telling the app; exit_event is set only by "
        "stop_application_mode, so ServedDriver tells the two apart after it",
        parameters=("self",),
    ),
    TextualInternal(
        "textual.drivers.web_driver",
        "WebDriver.on_meta",
        "tui.ui.served",
        "its 'quit' (the browser left) posts ExitApp, which ends the app without stopping the turn: "
        "ServedDriver takes 'quit' itself",
        parameters=("self", "packet_type", "payload"),
    ),
    TextualInternal(
        "textual.drivers.web_driver",
        "WebDriver.write",
        "tui.ui.served",
        "it, write_meta and write_binary_encoded all send through self._write, an os.write partial set in "
        "__init__: ServedDriver replaces _write to drop what a broken pipe refuses",
        parameters=("self", "data"),
    ),
)
