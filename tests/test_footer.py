"""The footer rebuilds its keys only when the keys it shows change."""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import Input
from textual.widgets._footer import FooterKey  # not exported; the app's own footer imports it so too

from tui.perf.keys_footer import KeysFooter
from tui.perf.switch import NO_TUNING, tuning_on


class TwoKeys(App[None]):
    BINDINGS = [Binding("escape", "stop", "Stop"), Binding("ctrl+n", "new", "New")]  # noqa: RUF012

    def __init__(self) -> None:
        super().__init__()
        self.busy = False

    def compose(self) -> ComposeResult:
        yield Input()
        yield KeysFooter(compact=True)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return self.busy if action == "stop" else True

    def action_stop(self) -> None:
        self.busy = False

    def action_new(self) -> None:
        pass


def _keys(app: App[None]) -> list[str]:
    return [str(key.description) for key in app.query(FooterKey)]


async def keys_around_an_update() -> tuple[list[FooterKey], list[FooterKey]]:
    """The footer's key widgets before and after a bindings update that changes no key."""
    app = TwoKeys()
    async with app.run_test() as pilot:
        await pilot.pause()
        before = list(app.query(FooterKey))
        app.refresh_bindings()
        await pilot.pause()
        await pilot.pause()
        return before, list(app.query(FooterKey))


async def test_an_update_that_changes_no_key_keeps_the_keys() -> None:
    """Refreshing the bindings when no key changes keeps the very same key widgets."""
    before, after = await keys_around_an_update()
    assert after == before


async def test_a_key_that_comes_and_goes_is_shown_and_hidden() -> None:
    """A key whose action is enabled and disabled again is shown and then hidden."""
    app = TwoKeys()
    async with app.run_test() as pilot:
        await pilot.pause()
        assert "Stop" not in _keys(app) and "New" in _keys(app)
        app.busy = True
        app.refresh_bindings()
        await pilot.pause()
        await pilot.pause()
        assert "Stop" in _keys(app)
        app.busy = False
        app.refresh_bindings()
        await pilot.pause()
        await pilot.pause()
        assert "Stop" not in _keys(app)


async def test_a_key_that_comes_and_goes_alone_leaves_the_other_keys_as_they_were() -> None:
    """A key that comes and goes leaves the other key widgets as they were."""
    app = TwoKeys()
    async with app.run_test() as pilot:
        await pilot.pause()
        before = list(app.query(FooterKey))  # New, and the palette's key
        for busy, shown in ((True, ["Stop", "New"]), (False, ["New"])):
            app.busy = busy
            app.refresh_bindings()
            await pilot.pause()
            await pilot.pause()
            assert _keys(app)[: len(shown)] == shown
            assert [key for key in app.query(FooterKey) if str(key.description) != "Stop"] == before


async def test_with_the_tuning_off_every_update_rebuilds_the_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """OLLAMON_NO_TUNING=1: Textual's own footer, which makes new keys even when none changed."""
    monkeypatch.setenv(NO_TUNING, "1")
    tuning_on.cache_clear()
    before, after = await keys_around_an_update()
    assert [str(key.description) for key in after] == [str(key.description) for key in before]
    assert not set(after) & set(before)


class ManyKeys(App[None]):
    BINDINGS = [Binding(f"f{n}", f"noop({n})", f"Action{n}") for n in range(1, 9)]  # noqa: RUF012

    def compose(self) -> ComposeResult:
        yield Input()
        yield KeysFooter(compact=True)

    def action_noop(self, n: int) -> None:
        pass


async def test_keys_that_do_not_fit_are_hidden_whole_not_cut() -> None:
    """In a footer too narrow for every key, the first keys show whole and the rest are hidden, none cut in half."""
    app = ManyKeys()
    async with app.run_test(size=(60, 8)) as pilot:
        await pilot.pause()
        await pilot.pause()
        keys = [key for key in app.query(FooterKey) if not key.has_class("-command-palette")]
        shown = [key.display for key in keys]
        assert shown == sorted(shown, reverse=True) and 0 < sum(shown) < len(keys)  # a prefix shows
        palette = app.query_one(".-command-palette", FooterKey)
        assert all(key.region.right <= palette.region.x for key in keys if key.display)
        assert all(key.region.width >= len(f"{key.key_display} {key.description}") for key in keys if key.display)


async def test_a_rebuild_queued_for_a_removed_footer_does_nothing() -> None:
    """A bindings update that reaches a footer already removed with its screen neither draws nor raises."""
    app = TwoKeys()
    async with app.run_test() as pilot:
        await pilot.pause()
        footer = app.query_one(KeysFooter)
        await footer.remove()
        await footer.recompose()  # as Textual's screen callbacks may still call it once it is gone
        assert not footer.is_attached and not list(footer.query(FooterKey))
