"""Run a sweep through the same ChatSession as the TUI: each model in turn, smallest first.

Before each model the fit advisor's prediction is reported (and kept in its records); with
`skip_unfit` a model predicted to swap or not to load is not run: each of its runs is a failed
row saying so. Failures are rows, not aborts; a stop (Ctrl+C) ends the current run as cancelled
and keeps everything that finished; `resume` runs only what a sweep is still missing.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

from tui.core.chat.events import SessionEvent
from tui.core.chat.recorder import SweepTag, record_model
from tui.core.chat.session import ChatSession
from tui.core.fit.estimate import Fit
from tui.core.fit.verdict import Verdict
from tui.core.ollama.errors import ErrorKind
from tui.core.ollama.events import AnswerDelta, Failure, ThinkingDelta
from tui.core.ollama.models import CatalogModel
from tui.core.records.schema import Record, Status
from tui.core.sampling.monitor import BaselineInterrupted
from tui.core.sweep.plan import SweepPlan, run_prompt, select_models

# A run with these statuses is done; cancelled, interrupted or running ones are run again.
_DONE = {Status.OK, Status.FAILED, Status.TIMEOUT}
# Power "back near idle" between models: within this share of the baseline, or 1 W.
_NEAR_IDLE = 0.10
# A repetition evaluating fewer prompt tokens than this share of the model's first run hit the cache.
_CACHE_SHARE = 0.9


@dataclass(frozen=True)
class Progress:
    """Where the sweep is, for a progress display."""

    model: str
    model_index: int
    model_count: int
    run: int
    runs: int
    phase: str  # predicted, skipped, unloading, loading, waiting, thinking, answering, cooling down, idle baseline
    tok_s: float | None = None
    eta_s: float | None = None
    note: str = ""


Report = Callable[[Progress], None]


def _quiet(_progress: Progress) -> None:
    return None


class SweepRunner:
    """One sweep: its id, its plan, and the session and recorder it runs on."""

    def __init__(
        self,
        session: ChatSession,
        plan: SweepPlan,
        sweep_id: str,
        *,
        report: Report = _quiet,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if session.recorder is None:
            raise ValueError("a sweep needs a record store")
        self.session = session
        self.recorder = session.recorder
        self.plan = plan
        self.sweep_id = sweep_id
        self.report = report
        self.stopped = False
        self.notes: list[str] = []
        self._clock = clock
        self._durations: list[float] = []
        self._remaining = 0
        self._where: Progress | None = None
        self._unloadable: dict[str, Failure] = {}
        self._task: asyncio.Task[object] | None = None
        # Prompt tokens each model's first run evaluated: a later run with fewer hit the cache.
        self._full_prompt: dict[str, int] = {}
        session.listener = self._on_event

    @classmethod
    def start(cls, session: ChatSession, plan: SweepPlan, **kwargs: object) -> SweepRunner:
        """A new sweep, its plan stored for `--resume`."""
        assert session.recorder is not None
        sweep_id = session.recorder.store.create_sweep(plan.to_json(), host=session.recorder.host.hostname)
        return cls(session, plan, sweep_id, **kwargs)  # type: ignore[arg-type]

    def stop(self) -> None:
        """Ctrl+C: end the current run as cancelled (or the unload or load in progress) and run
        nothing more."""
        self.stopped = True
        if self._task is not None:
            self._task.cancel()

    async def run(self) -> list[Record]:
        """Every missing run; returns all of the sweep's records (earlier ones included)."""
        self._task = asyncio.current_task()
        try:
            await self._run()
        except asyncio.CancelledError:
            if not self.stopped:
                raise
            # Stopped on purpose: the session has completed the cancelled run's record.
            if self._task is not None:
                self._task.uncancel()
        finally:
            self._task = None
        return self.recorder.store.sweep_records(self.sweep_id)

    async def _run(self) -> None:
        await self.session.refresh()
        selection = select_models(
            ",".join(self.plan.models), self.session.models, include_cloud=self.plan.include_cloud
        )
        found, missing = selection.chosen, selection.missing
        if selection.cloud_left_out:
            names = ", ".join(model.name for model in selection.cloud_left_out)
            note = f"cloud models not run (they run elsewhere; --include-cloud runs them): {names}"
            self.report(Progress("", 0, 0, 0, 0, "skipped", note=note))
        for glob in selection.unmatched:
            self.report(Progress("", 0, 0, 0, 0, "skipped", note=f"no installed model matches {glob!r}"))
        done = self._done()
        todo = [(m, rep, warm) for m in found for rep, warm in self.plan.runs() if (m.name, rep, warm) not in done]
        self._remaining = len(todo)
        for name in missing:
            if not any(key[0] == name for key in done):
                self._failed(
                    CatalogModel(name=name, size=0),
                    0,
                    False,
                    Failure(ErrorKind.NOT_FOUND, f"{name} is not installed: fetch it with `ollamon pull {name}`"),
                )
        if self.plan.idle_baseline and not self.stopped:
            await self._idle_baseline(self.plan.idle_baseline)
        count = len(found)
        for index, model in enumerate(found):
            runs = [(rep, warm) for m, rep, warm in todo if m is model]
            if not runs:
                continue
            if self.stopped:
                break
            fit = await self._predict(model, index, count)
            if self.plan.skip_unfit and fit is not None and fit.verdict.unfit:
                self._skip(model, index, count, runs, fit)
                continue
            if index and self.plan.cooldown:
                await self._cool_down(model.name, index, count)
            for position, (rep, warm) in enumerate(runs):
                if self.stopped:
                    break
                where = Progress(model.name, index + 1, count, position + 1, len(runs), "loading")
                await self._one_run(model, rep, warm, where)

    async def _predict(self, model: CatalogModel, index: int, count: int) -> Fit | None:
        """Where Ollama will put the model, said before it runs; None when it cannot be predicted."""
        session = self.session
        session.settings = self.plan.settings()  # the plan's num_ctx decides the placement
        await session.refresh_predictions()  # what is loaded now counts: it may have to make room
        fit = session.predictions.get(model.name)
        if fit is None:
            why = session.fit_problem or "the server did not describe the model"
            note = f"no prediction: {why}"
            if self.plan.skip_unfit:
                self.notes.append(f"{model.name} was run: --skip-unfit had no prediction ({why})")
        else:
            note = f"{fit.placement}: {fit.verdict.label}"
        self.report(Progress(model.name, index + 1, count, 0, 0, "predicted", note=note))
        return fit

    def _skip(self, model: CatalogModel, index: int, count: int, runs: list[tuple[int, bool]], fit: Fit) -> None:
        what = "swap" if fit.verdict is Verdict.SWAPS else "not load"
        failure = Failure(ErrorKind.OTHER, f"skipped: predicted to {what}: {fit.reason}")
        self.report(Progress(model.name, index + 1, count, 0, 0, "skipped", note=f"predicted to {what}"))
        for rep, warm in runs:
            self._failed(model, rep, warm, failure)
        self._remaining = max(0, self._remaining - len(runs))

    def _done(self) -> set[tuple[str, int, bool]]:
        """The runs already done (on --resume), noting each model's full prompt count on the way."""
        done = set()
        for r in self.recorder.store.sweep_records(self.sweep_id):
            if r.status in _DONE:
                done.add((r.model.name or "", r.repetition or 0, r.warmup))
            if r.counts.prompt_tokens:
                self._full_prompt.setdefault(r.model.name or "", r.counts.prompt_tokens)
        return done

    async def _one_run(self, model: CatalogModel, rep: int, warm: bool, where: Progress) -> None:
        session, plan = self.session, self.plan
        tag = SweepTag(self.sweep_id, rep, warm)
        started = self._clock()
        if plan.cold:
            self._say(where, "unloading")
            unloaded = await session.unload_all()
            if not unloaded.confirmed:
                self.notes.append(f"{model.name}: /api/ps still listed a model after unloading; load may be warm")
        session.settings = plan.settings()
        if model.name in self._unloadable:
            # Loading again would only fail (and swap) again: the run is a row with the same reason.
            self._failed(model, rep, warm, self._unloadable[model.name])
            self._finished(started)
            return
        if plan.cold or session.model != model.name:
            self._say(where, "loading")
            if not await session.choose(model.name):
                failure = session.load_failure or Failure(ErrorKind.OTHER, "the model did not load")
                self._unloadable[model.name] = failure
                self._failed(model, rep, warm, failure)
                self._finished(started)
                return
            self._say(where, "loaded", note=self._how_loaded())
        await session.new_chat()
        self._say(where, "waiting")
        # The model's first run sends the prompt as written; later ones are tagged invisibly.
        index = rep if plan.warmup else rep - 1
        result = await session.send(run_prompt(plan.prompt, index), timeout=plan.timeout, sweep=tag)
        record = result.record
        if record is not None:
            self._judge(record)
        self._finished(started)

    def _how_loaded(self) -> str:
        explicit = self.session.last_load
        if explicit is None:
            return ""
        how = "cold" if explicit.cold else "warm (already in memory)"
        return f"{how}, {explicit.seconds:.2f} s"

    def _judge(self, record: Record) -> None:
        """Flags a bare status cannot say: an empty answer, a cached prompt."""
        if record.status is Status.OK and not (record.answer or record.counts.answer_chars):
            budget = record.counts.done_reason == "length"
            record.status = Status.FAILED
            record.error_kind = ErrorKind.OTHER
            record.error = (
                "thinking used the whole budget (num_predict) before any answer" if budget else "empty answer"
            )
            self.recorder.amend(record)
        evaluated = record.counts.prompt_tokens
        full = self._full_prompt.setdefault(record.model.name or "", evaluated) if evaluated else None
        if evaluated is not None and full and evaluated < full * _CACHE_SHARE:
            self.notes.append(
                f"{record.model.name} run {record.repetition}: only {evaluated} of {full} prompt"
                " tokens evaluated (prompt cache); its prompt tok/s is not comparable"
            )

    def _failed(self, model: CatalogModel, rep: int, warm: bool, failure: Failure) -> None:
        problem = self.recorder.failed_run(
            record_model(model if model.size else None, None, model.name),
            self.session.server.engine_facts(),
            SweepTag(self.sweep_id, rep, warm),
            failure,
            self.session.fits.as_recorded(model.name),
        )
        if problem:
            self.notes.append(problem)

    def _finished(self, started: float) -> None:
        self._durations.append(self._clock() - started)
        self._remaining = max(0, self._remaining - 1)

    def _eta(self) -> float | None:
        if not self._durations:
            return None
        return sum(self._durations) / len(self._durations) * self._remaining

    def _say(self, where: Progress, phase: str, *, tok_s: float | None = None, note: str = "") -> None:
        self._where = Progress(
            where.model,
            where.model_index,
            where.model_count,
            where.run,
            where.runs,
            phase,
            tok_s=tok_s,
            eta_s=self._eta(),
            note=note,
        )
        self.report(self._where)

    async def _on_event(self, event: SessionEvent) -> None:
        where, turn = self._where, self.session.turn
        if where is None or turn is None or not isinstance(event, (ThinkingDelta, AnswerDelta)):
            return
        times = turn.timer.times()
        span = (times.thinking or 0.0) + (times.answer or 0.0)
        # The first chunks say nothing about a rate: wait for half a second of them.
        tok_s = times.chunks / span if span >= 0.5 else None
        if turn.phase != where.phase or times.chunks % 8 == 0:
            self._say(where, turn.phase, tok_s=tok_s)

    async def _idle_baseline(self, seconds: float) -> None:
        monitor = self.session.monitor
        if monitor.power_why:
            self.notes.append(f"no idle baseline: {monitor.power_why}")
            return
        self.report(Progress("", 0, 0, 0, 0, "idle baseline", note=f"measuring idle power for {seconds:g} s"))
        try:
            baseline = await monitor.measure_baseline(seconds)
        except BaselineInterrupted:
            baseline = None
        if baseline is None:
            self.notes.append("no idle baseline: no power reading came in")

    async def _cool_down(self, model: str, index: int, count: int) -> None:
        """Wait up to --cooldown seconds, leaving early once power is back near idle."""
        monitor, cap = self.session.monitor, self.plan.cooldown or 0.0
        self.report(Progress(model, index + 1, count, 0, 0, "cooling down"))
        deadline = self._clock() + cap
        interval = monitor.interval or 1.0
        while self._clock() < deadline and not self.stopped:
            await asyncio.sleep(min(interval, max(0.0, deadline - self._clock())))
            baseline = monitor.baseline
            if baseline is None:
                continue
            sample = await asyncio.to_thread(monitor.tick)
            watts = sample.watts if sample else None
            if watts is not None and watts <= baseline.watts * (1 + _NEAR_IDLE) + 1.0:
                return
