"""The results format's JSON Schema (``reports/schema.json``), applied to every record that is read.

Validation goes through ``jsonschema``, one validator per record kind, so an error
names the field that is wrong rather than "matches none of run, result, run_end".
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

SCHEMA_FILE = Path(__file__).parent / "schema.json"


@cache
def schema() -> dict[str, Any]:
    return json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))


@cache
def _validator(kind: str) -> Any:
    from jsonschema import Draft202012Validator

    full = schema()
    return Draft202012Validator({"$ref": f"#/$defs/{kind}", "$defs": full["$defs"]})


def kinds() -> tuple[str, ...]:
    return tuple(ref["$ref"].rsplit("/", 1)[1] for ref in schema()["oneOf"])


def validate(record: Any, *, where: str) -> None:
    """Raise ResultsError naming ``where``, the field and the problem, unless ``record`` follows the schema."""
    from jsonschema.exceptions import best_match

    from .results import ResultsError

    if not isinstance(record, dict):
        raise ResultsError(
            f"{where}: expected a JSON object (a run, result or run_end record), got {type(record).__name__}"
        )
    kind = record.get("kind")
    if kind not in kinds():
        raise ResultsError(f"{where}: unknown record kind {kind!r}; expected one of {', '.join(kinds())}")
    validator = _validator(kind)
    if validator.is_valid(record):  # the common case, then the slower search for the most telling error
        return
    error = best_match(validator.iter_errors(record))
    if error is not None:
        field = "".join(f"[{p!r}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path).lstrip(".")
        raise ResultsError(f"{where}: {kind} record{f', field {field}' if field else ''}: {error.message}")
