"""What a sweep runs: which models, which prompt, how often, with which request settings."""

from __future__ import annotations

import fnmatch
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from tui.core.chat.conversation import ChatSettings
from tui.core.chat.think import ThinkLevel
from tui.core.ollama.models import CatalogModel

# Zero-width characters: each repetition's prompt starts differently, so Ollama's prompt cache
# cannot skip the prefill, and nothing visible changes.
_INVISIBLE = ("\u200b", "\u200c", "\u200d", "\u2060")


@dataclass(frozen=True)
class SweepPlan:
    """Stored with the sweep (its JSON form), so `--resume` reruns exactly what is missing."""

    models: list[str]
    prompt: str
    repeat: int = 1
    warmup: bool = False
    cold: bool = False
    think: ThinkLevel | None = None  # None: each model's default (on where it can think)
    options: dict[str, Any] = field(default_factory=dict)
    timeout: float | None = None
    cooldown: float | None = None
    idle_baseline: float | None = None
    skip_unfit: bool = False  # models the fit advisor predicts to swap or not load are not run
    # Cloud models run elsewhere: `all` and globs leave them out unless asked (a named one is run).
    include_cloud: bool = False

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> SweepPlan:
        """The stored plan; `think` stored as a boolean (before think levels) is on or off.

        ValueError for a think value this version does not know: rerunning with another would
        mix two settings in one sweep.
        """
        known = {f.name for f in fields(cls)}
        values = {key: value for key, value in doc.items() if key in known}
        if values.get("think") is not None:
            values["think"] = ThinkLevel.of(values["think"])
        return cls(**values)

    def runs(self) -> list[tuple[int, bool]]:
        """(repetition, warm-up) of each run of one model: 0 is the untimed warm-up."""
        first = [(0, True)] if self.warmup else []
        return first + [(k, False) for k in range(1, self.repeat + 1)]

    def settings(self) -> ChatSettings:
        """The request settings every run sends."""
        options = dict(self.options)
        return ChatSettings(
            temperature=options.pop("temperature", None),
            num_ctx=options.pop("num_ctx", None),
            seed=options.pop("seed", None),
            think=self.think if self.think is not None else ThinkLevel.ON,
            extra_options=options,
        )


def run_prompt(prompt: str, index: int) -> str:
    """The prompt of the model's `index`-th run: the first as written, later ones tagged invisibly."""
    if index == 0:
        return prompt
    digits = []
    for _ in range(4):
        index, digit = divmod(index, len(_INVISIBLE))
        digits.append(_INVISIBLE[digit])
    return "".join(digits) + prompt


@dataclass(frozen=True)
class Selection:
    """What `--models` chose: the models, smallest first; the names not installed; the cloud
    models `all` or a glob left out; the globs that matched nothing."""

    chosen: list[CatalogModel]
    missing: list[str]
    cloud_left_out: list[CatalogModel]
    unmatched: list[str]


def select_models(spec: str, installed: list[CatalogModel], *, include_cloud: bool = False) -> Selection:
    """Models named by `a,b`, `all` or a glob; a cloud model named outright is chosen."""
    by_name = {model.name: model for model in installed}
    chosen: list[CatalogModel] = []
    missing: list[str] = []
    unmatched: list[str] = []
    left_out: list[CatalogModel] = []
    for part in (p.strip() for p in spec.split(",")):
        if not part:
            continue
        if part == "all" or any(ch in part for ch in "*?["):
            matched = [m for m in installed if part == "all" or fnmatch.fnmatchcase(m.name, part)]
            wanted = [m for m in matched if include_cloud or not m.cloud]
            chosen.extend(m for m in wanted if m not in chosen)
            left_out.extend(m for m in matched if m not in wanted and m not in left_out)
            if not matched and part != "all":
                unmatched.append(part)
        else:
            model = by_name.get(part) or by_name.get(part if ":" in part else f"{part}:latest")
            if model is None:
                missing.append(part)
            elif model not in chosen:
                chosen.append(model)
    return Selection(
        sorted(chosen, key=lambda m: (m.size, m.name)), missing, [m for m in left_out if m not in chosen], unmatched
    )
