"""The results format's JSON Schema (``autograd_conformance/reports/schema.json``), applied to every record that is read.

Validation goes through ``fastjsonschema``, one compiled validator per record kind, so an
error names the field that is wrong rather than "matches none of run, result, run_end".
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

SCHEMA_FILE = Path(__file__).parent / "schema.json"


@cache
def schema() -> dict[str, Any]:
    return json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))


@cache
def _validator(kind: str) -> Callable[[Any], Any]:
    # fastjsonschema compiles the schema to Python: about 16 µs a record, against 360-750 µs
    # for jsonschema measured on this 2-core machine under load (40,000 records: 0.6 s, not 15-30 s).
    import fastjsonschema

    return fastjsonschema.compile({"$ref": f"#/$defs/{kind}", "$defs": schema()["$defs"]})


def kinds() -> tuple[str, ...]:
    return tuple(ref["$ref"].rsplit("/", 1)[1] for ref in schema()["oneOf"])


def validate(record: Any, *, where: str) -> None:
    """Raise ResultsError naming ``where``, the field and the problem, unless ``record`` follows the schema."""
    from fastjsonschema import JsonSchemaValueException

    from .results import ResultsError

    if not isinstance(record, dict):
        raise ResultsError(f"{where}: expected a JSON object (a run, result or run_end record), got {type(record).__name__}")
    kind = record.get("kind")
    if kind not in kinds():
        raise ResultsError(f"{where}: unknown record kind {kind!r}; expected one of {', '.join(kinds())}")
    try:
        _validator(kind)(record)
    except JsonSchemaValueException as exc:
        field = ".".join(str(p) for p in exc.path[1:])
        problem = exc.message.removeprefix(exc.name).strip()
        if exc.rule == "required" and not field:  # name only the missing fields, not every required one
            missing = [name for name in schema()["$defs"][kind]["required"] if name not in record]
            problem = f"missing required field(s) {', '.join(missing)}"
        raise ResultsError(
            f"{where}: {kind} record, field {field}: {exc.value!r} {problem}" if field else f"{where}: {kind} record: {problem}"
        ) from None
