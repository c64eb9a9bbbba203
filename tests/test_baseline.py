"""Baseline files: parsing, matching, clear errors, and replay of recorded known failures."""

from __future__ import annotations

from pathlib import Path

import pytest

from autograd_conformance.reports import baseline, results
from autograd_conformance.reports.replay import REPLAY_MAX_EXAMPLES

pytest_plugins = ["pytester"]

GOOD = """\
# torch 2.13.0 known failures

vjp/digamma/float64 | wrong sign near the poles | https://github.com/pytorch/pytorch/issues/1
jvp/mm/float32@cuda | TF32 | repro:baselines/repros/mm.py
hvp/sin/float64@cuda/compile | inductor fuses wrongly | https://example.invalid/2
suites/test_trees.py::test_tree[seed-3] | tree node id | https://example.invalid/3
"""


def test_parses_entries_skipping_comments_and_blank_lines() -> None:
    base = baseline.parse(GOOD, file="baselines/torch-2.13.0.txt")
    assert [e.id for e in base.entries] == [
        "vjp/digamma/float64",
        "jvp/mm/float32@cuda",
        "hvp/sin/float64@cuda/compile",
        "suites/test_trees.py::test_tree[seed-3]",
    ]
    first = base.entries[0]
    assert (first.reason, first.ref, first.where) == (
        "wrong sign near the poles",
        "https://github.com/pytorch/pytorch/issues/1",
        "baselines/torch-2.13.0.txt:3",
    )


@pytest.mark.parametrize(
    ("cell", "device", "path", "test_id", "expected"),
    [
        ("vjp/digamma/float64", "cpu", "eager", "t", "vjp/digamma/float64"),
        ("vjp/digamma/float64", "cuda", "func", "t", "vjp/digamma/float64"),
        ("jvp/mm/float32", "cuda", "eager", "t", "jvp/mm/float32@cuda"),
        ("jvp/mm/float32", "cpu", "eager", "t", None),
        ("hvp/sin/float64", "cuda", "compile", "t", "hvp/sin/float64@cuda/compile"),
        ("hvp/sin/float64", "cuda", "eager", "t", None),
        (
            "tree/tree/float64",
            "cpu",
            "eager",
            "suites/test_trees.py::test_tree[seed-3]",
            "suites/test_trees.py::test_tree[seed-3]",
        ),
    ],
)
def test_entries_match_cells_by_device_and_path(
    cell: str, device: str, path: str, test_id: str, expected: str | None
) -> None:
    base = baseline.parse(GOOD, file="b.txt")
    entry = base.find(cell=cell, device=device, path=path, test_id=test_id)
    assert (entry.id if entry else None) == expected


@pytest.mark.parametrize(
    ("line", "complaint"),
    [
        ("vjp/sin/float64 | reason", "malformed baseline line"),
        ("vjp/sin/float64 | | https://x.invalid", "malformed baseline line"),
        ("vjp/sin | reason | https://x.invalid", "neither a cell id nor a pytest node id"),
        ("vjp/sin/float64 | reason | see the wiki", "must be an http(s):// link or repro:"),
        ("vjp/sin/float64 | reason | repro:", "must be an http(s):// link or repro:"),
    ],
)
def test_malformed_lines_name_file_line_and_format(line: str, complaint: str) -> None:
    with pytest.raises(baseline.BaselineError) as info:
        baseline.parse(f"# header\n{line}\n", file="baselines/torch-9.txt")
    message = str(info.value)
    assert message.startswith("baselines/torch-9.txt:2: ")
    assert complaint in message
    assert "expected `<cell ids> [where <scope>] | <reason> | <link or repro:path>`" in message


def test_duplicate_entries_are_rejected() -> None:
    text = "vjp/a/float64 | r | https://x.invalid\nvjp/a/float64 | r2 | https://x.invalid\n"
    with pytest.raises(baseline.BaselineError, match=r"b\.txt:2: 'vjp/a/float64' is already listed at line 1"):
        baseline.parse(text, file="b.txt")


def test_missing_file_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(baseline.BaselineError, match="not found; create it .* or pass --no-baseline"):
        baseline.load(tmp_path / "torch-1.txt")
    assert len(baseline.load_for(tmp_path, "torch-1")) == 0, "a label without a file has no known failures"


def test_committed_baselines_are_well_formed() -> None:
    paths = sorted((Path(__file__).resolve().parents[1] / "baselines").glob("torch-*.txt"))
    assert paths, "every torch version in the matrix has a baseline file, even an empty one"
    for path in paths:
        assert isinstance(baseline.load(path), baseline.Baseline)  # a malformed line raises, naming file:line


# -- replay: known failures come back from recorded examples, unshrunk ---------------------

SUITE = """
from hypothesis import given, strategies as st
import pytest
from autograd_conformance.verdict import Outcome, Verdict

@pytest.mark.conformance(property="vjp")
@given(x=st.integers(0, 10_000))
def test_digamma(record, x):
    bad = x > 1000
    record.add(Outcome(Verdict.FAIL if bad else Verdict.PASS, "fd", error=x * 1e-3, tol=1.0), repro=f"x={x}")
    assert not bad
"""


def _digamma(pytester: pytest.Pytester) -> dict:
    (path,) = (pytester.path / "results").glob("*.jsonl")
    (result,) = results.read(path).results
    return result


def test_known_failure_replays_the_recorded_example_without_shrinking(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The recording must meet x > 1000: the default profile's 25 random examples do; CI's environment
    # (CONFORMANCE_PROFILE=ci) would give the ci profile's 4 derandomized ones, which do not.
    monkeypatch.setenv("CONFORMANCE_PROFILE", "default")
    pytester.makeconftest(
        "from autograd_conformance.profiles import load_default_profile\nload_default_profile()\n"
        "pytest_plugins = ['autograd_conformance.reports.pytest_plugin']\n"
    )
    pytester.makepyfile(test_suite=SUITE)
    args = ("--results-label", "torch-t", "-p", "no:cacheprovider")
    recording = pytester.runpytest(*args, "--record-examples")
    recording.assert_outcomes(failed=1)
    assert _digamma(pytester)["repro"] == "x=1001", "recording shrinks to the minimal example"
    assert any((pytester.path / "baselines" / "examples").iterdir()), "the shrunk example is saved for replay"

    (pytester.path / "baselines" / "torch-t.txt").write_text("vjp/-/- | known | https://x.invalid/1\n")
    before = sorted(p.name for p in (pytester.path / "baselines" / "examples").rglob("*"))
    replay = pytester.runpytest(*args)
    replay.assert_outcomes(xfailed=1)
    result = _digamma(pytester)
    assert result["known"] and result["verdict"] == "fail"
    assert result["repro"] == "x=1001", "the recorded example is replayed first"
    assert result["examples"] <= 2, "replay stops at the recorded failure: no generation, no shrinking"
    after = sorted(p.name for p in (pytester.path / "baselines" / "examples").rglob("*"))
    assert before == after, "normal runs use the recorded examples read-only"


def test_known_failure_without_a_recording_runs_few_examples_unshrunk(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        "from autograd_conformance.profiles import load_default_profile\nload_default_profile()\n"
        "pytest_plugins = ['autograd_conformance.reports.pytest_plugin']\n"
    )
    pytester.makepyfile(test_suite=SUITE.replace("bad = x > 1000", "bad = x % 2 == 0 or x % 2 == 1"))
    (pytester.path / "baselines").mkdir()
    (pytester.path / "baselines" / "torch-t.txt").write_text("vjp/-/- | known | https://x.invalid/1\n")
    outcome = pytester.runpytest("--results-label", "torch-t", "-p", "no:cacheprovider")
    outcome.assert_outcomes(xfailed=1)
    assert _digamma(pytester)["examples"] <= REPLAY_MAX_EXAMPLES + 1
