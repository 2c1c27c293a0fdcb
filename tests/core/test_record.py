"""The record schema: JSON round trip and the derived figures of record-schema.md."""

from __future__ import annotations

import json

import pytest

from tui.core.chat.timers import count_chars
from tui.core.records.schema import (
    SCHEMA_VERSION,
    AppInfo,
    Counts,
    EngineInfo,
    ErrorKind,
    GpuInfo,
    HostInfo,
    LoadInfo,
    ModelInfo,
    Power,
    Rates,
    Record,
    RequestInfo,
    Resources,
    Sample,
    Status,
    TimingMs,
    chars_per_s,
    chat_messages,
    compute_rates,
    tokens_per_s,
    utc_now,
)


def full_record() -> Record:
    """A record with every section filled in."""
    return Record(
        session_id="s1",
        turn_index=3,
        sweep_id="sw",
        repetition=2,
        warmup=True,
        started_at="2025-10-08T14:03:20.000Z",
        ended_at="2025-10-08T14:03:27.400Z",
        status=Status.FAILED,
        error="model runner has unexpectedly stopped",
        error_kind=ErrorKind.RUNNER_CRASHED,
        app=AppInfo(version="0.1.0", python="3.11.7"),
        host=HostInfo(
            "box",
            "Ubuntu 24.04",
            "6.8.0",
            "x86_64",
            "ThinkStation",
            "Intel Xeon",
            16,
            64 * 2**30,
            GpuInfo("NVIDIA H100", 80 * 2**30),
        ),
        engine=EngineInfo(version="0.12.6", host_url="http://127.0.0.1:11434", remote=False),
        model=ModelInfo(
            "qwen3:8b", "sha256:abc", "qwen3", "8.2B", "Q4_K_M", 5_225_387_923, 40960, ["completion", "thinking"]
        ),
        request=RequestInfo(
            prompt_chars=7, history_messages=4, think="high", options={"num_ctx": 8192, "seed": 1}, keep_alive="10m"
        ),
        load=LoadInfo(
            cold=True,
            load_ms=2100.5,
            ps_size_bytes=6 * 10**9,
            ps_vram_bytes=4 * 10**9,
            processor="33%/67% CPU/GPU",
            context_length=8192,
        ),
        timing_ms=TimingMs(2300.0, 1600.0, 4300.0, 7400.0, 13.458291, 130.079, 4535.599, 4883.583458),
        counts=Counts(
            prompt_tokens=26,
            prompt_cached_tokens=20,
            eval_tokens=282,
            thinking_chars=14,
            answer_chars=6,
            done_reason="stop",
            estimated=True,
        ),
        rates=Rates(62.17, 199.88, 3.39, 1.39),
        resources=Resources(250.0, 6 * 10**9, 30 * 10**9, 40 * 10**9, 0, 10**6, 55.5, None),
        power=Power("smc", "system", 5.0, 30.0, 34.0, 25.0, 222.0, 185.0, 0.66, 1.52, None),
        samples=[Sample(0.0, 30 * 10**9, 0, 10**6, 6.0), Sample(250.0, 40 * 10**9, 10**6, 6 * 10**9, None)],
        prompt="用中文打个招呼",
        thinking="Okay, the user",
        answer="你好，世界！",
    )


class TestJsonForm:
    def test_round_trip_is_lossless(self) -> None:
        """A record survives to_json_dict → json text → from_json_dict unchanged."""
        record = full_record()
        text = json.dumps(record.to_json_dict(), ensure_ascii=False)
        assert Record.from_json_dict(json.loads(text)) == record

    def test_json_names_follow_the_schema(self) -> None:
        """Top-level keys, enums as strings, samples as arrays, power's `why`."""
        doc = full_record().to_json_dict()
        assert list(doc)[:12] == [
            "schema_version",
            "record_id",
            "session_id",
            "turn_index",
            "sweep_id",
            "repetition",
            "warmup",
            "started_at",
            "ended_at",
            "status",
            "error",
            "error_kind",
        ]
        assert doc["schema_version"] == SCHEMA_VERSION
        assert doc["status"] == "failed" and doc["error_kind"] == "runner_crashed"
        assert doc["samples"][1] == [250.0, 40 * 10**9, 10**6, 6 * 10**9, None]
        assert doc["counts"]["estimated"] is True
        assert doc["host"]["gpu"] == {"name": "NVIDIA H100", "vram_bytes": 80 * 2**30}
        assert set(doc["power"]) >= {"source", "why", "j_per_token", "tokens_per_j"}

    def test_unavailable_power_is_all_null_with_a_reason(self) -> None:
        """Power.unavailable: every figure null, source null, why set."""
        doc = Record(power=Power.unavailable("needs root")).to_json_dict()["power"]
        assert doc.pop("why") == "needs root"
        assert set(doc.values()) == {None}

    def test_unknown_keys_are_ignored_and_missing_ones_default(self) -> None:
        """A newer file's extra fields do not break reading; an older file's gaps default."""
        doc = {"record_id": "r", "status": "ok", "future": 1, "model": {"name": "m", "new": 2}, "host": {"gpu": None}}
        record = Record.from_json_dict(doc)
        assert record.record_id == "r" and record.status is Status.OK
        assert record.model.name == "m" and record.host.gpu is None and record.samples == []

    def test_status_values(self) -> None:
        """The five outcomes plus running; the seven error kinds."""
        assert {s.value for s in Status} == {"running", "ok", "failed", "cancelled", "interrupted", "timeout"}
        assert {k.value for k in ErrorKind} == {
            "not_found",
            "out_of_memory",
            "runner_crashed",
            "connection",
            "timeout",
            "not_ollama",
            "other",
        }

    def test_timestamps_are_fixed_width_utc(self) -> None:
        """utc_now is ISO 8601 UTC with milliseconds, so strings sort in time order."""
        now = utc_now()
        assert len(now) == 24 and now.endswith("Z") and now[10] == "T"


class TestRates:
    def test_eval_rate_is_not_truncated(self) -> None:
        """1000 tokens in 1.5 s is 666.67 tok/s (a truncating client shows 1000)."""
        rate = tokens_per_s(1000, 1_500_000_000)
        assert rate is not None and rate == pytest.approx(2000 / 3)
        assert round(rate, 2) == 666.67

    def test_true_thousand_is_not_shown_as_1333(self) -> None:
        """1000 tok/s over 0.75 s stays 1000 (truncating 0.75 s to whole seconds breaks this)."""
        assert tokens_per_s(750, 750_000_000) == pytest.approx(1000.0)

    def test_ollama_sample_chunk(self) -> None:
        """The protocol's final chunk: 282 tokens / 4.535599 s and 26 / 0.130079 s."""
        assert tokens_per_s(282, 4535599000) == pytest.approx(282 / 4.535599)
        assert tokens_per_s(26, 130079000) == pytest.approx(26 / 0.130079)

    @pytest.mark.parametrize("count,ns", [(None, 1), (5, None), (5, 0), (0, 0)])
    def test_undefined_rates_are_none(self, count: int | None, ns: int | None) -> None:
        """No duration or no count: None, never a division by zero."""
        assert tokens_per_s(count, ns) is None

    def test_chars_per_second_counts_thinking_and_answer(self) -> None:
        """(300 + 700 chars) / (1.5 s + 2.5 s) = 250 chars/s."""
        assert chars_per_s(300, 700, 1500.0, 2500.0) == 250.0
        assert chars_per_s(None, 700, None, 2500.0) == 280.0
        assert chars_per_s(None, None, 1.0, 1.0) is None
        assert chars_per_s(0, 10, 0.0, 0.0) is None

    def test_compute_rates_from_server_figures(self) -> None:
        """All four rates from a turn's counts and timings."""
        rates = compute_rates(
            Counts(prompt_tokens=26, eval_tokens=1000, thinking_chars=300, answer_chars=700),
            TimingMs(thinking=1500.0, answer=2500.0, prompt_eval=130.079, eval=1500.0),
        )
        assert rates.eval_tok_s == pytest.approx(2000 / 3)
        assert rates.prompt_tok_s == pytest.approx(26 / 0.130079)
        assert rates.chars_s == 250.0
        assert rates.answer_chars_s == 280.0

    def test_estimated_rates_use_client_time(self) -> None:
        """Without the final chunk, estimated tokens are divided by thinking + answer time."""
        rates = compute_rates(Counts(eval_tokens=100, answer_chars=50, estimated=True), TimingMs(answer=2000.0))
        assert rates.eval_tok_s == 50.0 and rates.prompt_tok_s is None
        assert compute_rates(Counts(eval_tokens=100), TimingMs(answer=2000.0)).eval_tok_s is None


class TestChars:
    def test_chinese_counts_once_per_character(self) -> None:
        """Code points, not bytes: 你好，世界！ is 6."""
        assert count_chars("你好，世界！") == 6
        assert len("你好，世界！".encode()) == 18

    def test_other_code_points(self) -> None:
        """An emoji is one code point; a decomposed é is two; nothing is zero."""
        assert count_chars("👍") == 1
        assert count_chars("e\u0301") == 2
        assert count_chars("") == 0 and count_chars(None) == 0


def test_chat_messages_resend_kept_turns() -> None:
    """Turns with a prompt and answer become user/assistant pairs; others are skipped."""
    turns = [
        Record(prompt="hi", answer="hello"),
        Record(prompt="lost", answer=None, status=Status.FAILED),
        Record(prompt=None, answer="content off"),
    ]
    assert chat_messages(turns) == [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]
