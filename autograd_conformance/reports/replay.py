"""Replay known failures from recorded examples instead of re-shrinking them on every run.

The mechanism is Hypothesis's own example database:

* ``pytest suites --record-examples`` gives every conformance test the writable
  ``DirectoryBasedExampleDatabase`` in ``baselines/examples/``.  Hypothesis saves
  each failure's shrunk example there under the test's key (its source and node
  id).  Commit that folder together with the baseline line.
* On every other run, a test listed in the baseline gets that folder read-only
  (``ReadOnlyDatabase``, so runs never dirty the checkout), the ``explicit``,
  ``reuse`` and ``generate`` phases only (no shrinking), and at most
  ``REPLAY_MAX_EXAMPLES`` examples.  The reuse phase replays the recorded failure
  first, so a still-failing known failure costs one example.

If a test's source changes, its key changes and the recorded example is no
longer found: the test then runs a few fresh examples unshrunk; record again to
refresh it.  With ``--hypothesis-seed`` Hypothesis uses no database at all.

Settings are swapped on the test function only for the duration of that one
test call (see ``settings_for``), never globally.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from hypothesis import Phase, settings
from hypothesis.database import DirectoryBasedExampleDatabase, ReadOnlyDatabase

REPLAY_MAX_EXAMPLES = 5
REPLAY_PHASES = (Phase.explicit, Phase.reuse, Phase.generate)


def _hypothesis_function(item: Any) -> Any | None:
    obj = getattr(item, "obj", None)
    if obj is None or not getattr(obj, "is_hypothesis_test", False):
        return None
    return getattr(obj, "__func__", obj)


def replay_settings(current: settings, examples_dir: Path) -> settings:
    return settings(
        parent=current,
        database=ReadOnlyDatabase(DirectoryBasedExampleDatabase(str(examples_dir))),
        phases=REPLAY_PHASES,
        max_examples=min(current.max_examples, REPLAY_MAX_EXAMPLES),
    )


def record_settings(current: settings, examples_dir: Path) -> settings:
    return settings(parent=current, database=DirectoryBasedExampleDatabase(str(examples_dir)))


@contextlib.contextmanager
def settings_for(item: Any, make: Any, examples_dir: Path) -> Iterator[bool]:
    """Run one test call under ``make(current_settings, examples_dir)``; yields whether it applied."""
    fn = _hypothesis_function(item)
    current = getattr(fn, "_hypothesis_internal_use_settings", None) if fn is not None else None
    if fn is None or current is None:
        yield False
        return
    fn._hypothesis_internal_use_settings = make(current, examples_dir)
    try:
        yield True
    finally:
        fn._hypothesis_internal_use_settings = current
