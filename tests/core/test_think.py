"""Think levels: the value sent for each, and settings and sweep plans saved before levels existed."""

from __future__ import annotations

import json
from dataclasses import asdict

import pytest

from tui.core.chat.conversation import ChatSettings
from tui.core.chat.think import ThinkLevel
from tui.core.sweep.plan import SweepPlan


@pytest.mark.parametrize(
    ("level", "wire"),
    [
        (ThinkLevel.OFF, False),
        (ThinkLevel.ON, True),
        (ThinkLevel.LOW, "low"),
        (ThinkLevel.MEDIUM, "medium"),
        (ThinkLevel.HIGH, "high"),
        (ThinkLevel.MAX, "max"),
    ],
)
def test_each_level_sends_its_wire_value(level: ThinkLevel, wire: bool | str) -> None:
    """Off sends false, on sends true, and a level sends its name to a model that can think."""
    settings = ChatSettings(think=level)
    assert settings.think_param(True) == wire and type(settings.think_param(True)) is type(wire)


@pytest.mark.parametrize("level", list(ThinkLevel))
def test_a_model_without_thinking_gets_no_think(level: ThinkLevel) -> None:
    """No level, not even off, is sent to a model without the thinking capability."""
    assert ChatSettings(think=level).think_param(False) is None


def test_the_default_is_on() -> None:
    """A new chat asks capable models to think at their own default depth (true)."""
    assert ChatSettings().think is ThinkLevel.ON and ChatSettings().think_param(True) is True


@pytest.mark.parametrize(
    ("saved", "level"),
    [(True, ThinkLevel.ON), (False, ThinkLevel.OFF), ("high", ThinkLevel.HIGH), ("max", ThinkLevel.MAX)],
)
def test_saved_settings_load_old_booleans_and_levels(saved: bool | str, level: ThinkLevel) -> None:
    """A chat saved with the old boolean loads as on/off; one saved with a level loads that level."""
    settings = ChatSettings.from_saved({"think": saved, "seed": 3})
    assert settings.think is level and settings.seed == 3


def test_saved_settings_with_an_unknown_think_keep_the_default() -> None:
    """A think value this version does not know (a newer level, a typo) is ignored like an unknown key."""
    assert ChatSettings.from_saved({"think": "xhigh", "seed": 3}) == ChatSettings(seed=3)


def test_settings_round_trip_through_json() -> None:
    """Settings stored as JSON with the chat come back with the same level."""
    text = json.dumps(asdict(ChatSettings(think=ThinkLevel.HIGH)))
    assert json.loads(text)["think"] == "high"
    assert ChatSettings.from_saved(json.loads(text)).think is ThinkLevel.HIGH


@pytest.mark.parametrize(
    ("stored", "level"),
    [(True, ThinkLevel.ON), (False, ThinkLevel.OFF), (None, None), ("low", ThinkLevel.LOW)],
)
def test_saved_plans_load_old_booleans_and_levels(stored: bool | str | None, level: ThinkLevel | None) -> None:
    """A sweep plan stored with the old boolean (or none) resumes with the same think as before."""
    plan = SweepPlan.from_json({"models": ["all"], "prompt": "why", "think": stored})
    assert plan.think is level
    assert plan.settings().think is (level or ThinkLevel.ON)


def test_plan_round_trips_through_json() -> None:
    """A plan with a level is stored as its name and comes back as the level."""
    plan = SweepPlan(models=["all"], prompt="why", think=ThinkLevel.HIGH)
    doc = json.loads(json.dumps(plan.to_json()))
    assert doc["think"] == "high" and SweepPlan.from_json(doc) == plan


def test_plan_with_an_unknown_think_is_refused() -> None:
    """A stored plan whose think this version does not know is a ValueError naming the levels, not a silent change."""
    with pytest.raises(ValueError, match="'xhigh' is not one of off, on, low, medium, high, max"):
        SweepPlan.from_json({"models": ["all"], "prompt": "why", "think": "xhigh"})
