"""Records carried between stores and machines: `ollamon export --format jsonl` writes one
self-describing line per record, `ollamon import` reads such lines back.

A line is ``{"format": "ollamon.record", "version": 1, "record": {...}}``: the marker tells an
export from any other JSON Lines file, the version is the record form's (schema.SCHEMA_VERSION),
and the record is what `history --format json` prints for it, content included. Reading checks
every field's type against the schema, so a corrupt or foreign line is refused with its line
number before anything is stored.
"""

from __future__ import annotations

import json
import types
from collections.abc import Callable, Iterator
from dataclasses import fields, is_dataclass
from functools import cache
from pathlib import Path
from typing import Any, Union, get_args, get_origin, get_type_hints

from tui.core.ollama.errors import ErrorKind
from tui.core.records.export import record_json
from tui.core.records.schema import SCHEMA_VERSION, Record, Sample, Status

LINE_FORMAT = "ollamon.record"


class Refused(Exception):
    """A file that cannot be imported, and why (naming the file, and the line where there is one)."""


def export_line(record: Record, *, with_content: bool = True) -> str:
    """One record as a line of `ollamon export --format jsonl` (with its newline)."""
    line = {"format": LINE_FORMAT, "version": SCHEMA_VERSION, "record": record_json(record, with_content)}
    return json.dumps(line, ensure_ascii=False) + "\n"


def read_lines(path: Path) -> Iterator[Record]:
    """The records of an export file, in order; Refused at the first line that is not one."""
    return (Record.from_json_dict(doc) for doc in checked_lines(path))


def checked_lines(path: Path) -> Iterator[dict[str, Any]]:
    """Each line's record as checked JSON (read_lines without making Records); Refused likewise."""
    try:
        with open(path, "rb") as f:
            for number, raw in enumerate(f, 1):
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError as e:
                    raise Refused(f"{path}: line {number}: not UTF-8 text; not an `ollamon export` file") from e
                if text.strip():
                    yield _record_of_line(text, f"{path}: line {number}")
    except OSError as e:
        raise Refused(f"{path}: cannot read it ({e.strerror or e})") from e


def _record_of_line(text: str, where: str) -> dict[str, Any]:
    try:
        line = json.loads(text)
    except json.JSONDecodeError as e:
        raise Refused(f"{where}: not JSON ({e.msg}); not an `ollamon export` file") from e
    if not isinstance(line, dict) or line.get("format") != LINE_FORMAT:
        raise Refused(f'{where}: not an `ollamon export` line (no "format": "{LINE_FORMAT}")')
    version = line.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise Refused(f"{where}: no record version")
    if version > SCHEMA_VERSION:
        newer = f"record version {version}, this one reads up to {SCHEMA_VERSION}"
        raise Refused(f"{where}: written by a newer ollamon ({newer})")
    try:
        return check_record(line.get("record"))
    except ValueError as e:
        raise Refused(f"{where}: {e}") from e


def record_from_json(doc: object) -> Record:
    """A record's JSON form as a Record, checked first (check_record)."""
    return Record.from_json_dict(check_record(doc))


def check_record(doc: object) -> dict[str, Any]:
    """A record's JSON form, checked: every known field against the schema's type, and what import
    needs (`record_id`, `started_at`, `host.host_id`); ValueError names the first field that is
    wrong. Fields a newer ollamon added are ignored, missing ones default."""
    if not isinstance(doc, dict):
        raise ValueError("the record is not a JSON object")
    problem = _checker(Record)(doc)
    if problem is not None:
        where, value, wanted = problem
        raise ValueError(f"record{where}: {json.dumps(value, ensure_ascii=False)[:60]} is not {wanted}")
    for name in ("record_id", "started_at"):
        if not doc.get(name):
            raise ValueError(f"record.{name} is missing")
    if not doc.get("host", {}).get("host_id"):
        raise ValueError("record.host.host_id is missing: the record does not say which machine it ran on")
    return doc


# Where below the value checked, the value found there, and what it should have been.
Problem = tuple[str, Any, str]
Checker = Callable[[Any], Problem | None]
_NUMBER = (int, float)


@cache
def _checker(hint: Any) -> Checker:
    """A check that parsed JSON has the type `hint` asks for, made once per type: an import checks
    every field of every record, twice."""
    origin = get_origin(hint)
    if origin in (Union, types.UnionType):
        return _union([_checker(option) for option in get_args(hint)], _describe(hint))
    if origin is list and get_args(hint)[0] is Sample:
        return _samples
    if origin is list:
        return _list(_checker(get_args(hint)[0]))
    if is_dataclass(hint) and isinstance(hint, type):
        return _object(hint)
    fits: Callable[[Any], bool]
    if hint is Any:
        fits = _anything
    elif hint is type(None):
        fits = _null
    elif hint is bool:
        fits = _bool
    elif hint is int:
        fits = _int  # JSON gives exact types: a bool is no whole number here
    elif hint is float:
        fits = _number
    elif hint in (str, Status, ErrorKind):  # open enums: a newer ollamon's value is kept as it is
        fits = _str
    elif origin is dict:
        fits = _dict
    elif hint is Sample:
        fits = _sample
    else:
        raise TypeError(f"no check for {hint!r}")  # a new kind of field in the schema
    wanted = _describe(hint)

    def leaf(value: Any) -> Problem | None:
        return None if fits(value) else ("", value, wanted)

    return leaf


def _anything(value: Any) -> bool:
    return True


def _null(value: Any) -> bool:
    return value is None


def _bool(value: Any) -> bool:
    return type(value) is bool


def _int(value: Any) -> bool:
    return type(value) is int


def _number(value: Any) -> bool:
    return type(value) in _NUMBER


def _str(value: Any) -> bool:
    return type(value) is str


def _dict(value: Any) -> bool:
    return type(value) is dict


def _sample(value: Any) -> bool:
    return type(value) is list and all(v is None or type(v) in _NUMBER for v in value)


def _samples(value: Any) -> Problem | None:
    """A timeline checked whole at once (most of a record's values are in it); where it is wrong, found after."""
    if type(value) is list and all(map(_sample, value)):
        return None
    return _list(_checker(Sample))(value)


def _union(options: list[Checker], wanted: str) -> Checker:
    def check(value: Any) -> Problem | None:
        problems = []
        for option in options:
            problem = option(value)
            if problem is None:
                return None
            problems.append(problem)
        # An object or list of the right kind with a wrong field inside: name that field.
        inner = next((p for p in problems if p[0]), None)
        return inner or ("", value, wanted)

    return check


def _list(item: Checker) -> Checker:
    def check(value: Any) -> Problem | None:
        if type(value) is not list:
            return "", value, "a list"
        for n, element in enumerate(value):
            problem = item(element)
            if problem is not None:
                return f"[{n}]{problem[0]}", problem[1], problem[2]
        return None

    return check


def _object(cls: type) -> Checker:
    hints = get_type_hints(cls)
    checks = [(field.name, _checker(hints[field.name])) for field in fields(cls)]

    def check(value: Any) -> Problem | None:
        if type(value) is not dict:
            return "", value, "an object"
        for name, field_check in checks:
            if name in value:
                problem = field_check(value[name])
                if problem is not None:
                    return f".{name}{problem[0]}", problem[1], problem[2]
        return None

    return check


def _describe(hint: Any) -> str:
    if get_origin(hint) in (Union, types.UnionType):
        return " or ".join(_describe(option) for option in get_args(hint))
    names = {bool: "true or false", int: "a whole number", float: "a number", str: "a string", type(None): "null"}
    if hint in names:
        return names[hint]
    if hint in (Status, ErrorKind):
        return "a string"
    if hint is Sample:
        return "a list of numbers or nulls"
    if get_origin(hint) is list:
        return "a list"
    return "an object"
