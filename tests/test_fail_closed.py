"""The gate fails closed (issue 19): each way it used to pass what it could not know, reproduced.

The crash tests kill real processes: SIGINT of a single-process run, SIGKILL of the
xdist controller, SIGKILL of a worker.  The fake suite below is tiny and slow on purpose,
so that a kill lands mid-run.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from autograd_conformance.reports import baseline as baselines
from autograd_conformance.reports import catalog, results
from autograd_conformance.reports.soak import hear_sigint
from autograd_conformance.reports.synthetic import result
from tests.helpers import ROOT, run_pytest, run_reports

LABEL = "torch-2.13.0"
VARIABLE_SUITE = "suites/test_semantics_variable.py"  # a small suite that imports torch and JAX

CONFTEST = 'pytest_plugins = ["autograd_conformance.reports.pytest_plugin"]\n'
SUITE = """
import os, signal, time
from typing import NamedTuple
import pytest
from autograd_conformance.verdict import Outcome, Verdict

class Case(NamedTuple):
    op: str
    family: str
    dtype: str

@pytest.mark.conformance(property="vjp")
@pytest.mark.parametrize("case", [Case(f"op{i:02d}", "unary", "float64") for i in range(@N@)], ids=lambda c: c.op)
def test_slow(record, case):
    time.sleep(@SLEEP@)
    record.add(Outcome(Verdict.PASS, "fd"))

"""
CRASH = """
@pytest.mark.conformance(property="vjp")
@pytest.mark.parametrize("case", [Case("segv", "unary", "float64")], ids=lambda c: c.op)
def test_crash(record, case):
    os.kill(os.getpid(), signal.SIGKILL)  # what a segfault in a torch kernel does to the process
"""


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "CONFORMANCE_PROFILE": "fast"}


def _suite(tmp_path: Path, *, n: int = 12, sleep: float = 0.0, crash: bool = False) -> Path:
    (tmp_path / "conftest.py").write_text(CONFTEST)
    text = SUITE.replace("@N@", str(n)).replace("@SLEEP@", str(sleep)) + (CRASH if crash else "")
    (tmp_path / "test_fake.py").write_text(text)
    return tmp_path


def _pytest_args(*extra: str) -> list[str]:
    return [sys.executable, "-m", "pytest", "test_fake.py", "-p", "no:cacheprovider", "-q", "--results-label", LABEL, *extra]


def _gate(*args: str) -> subprocess.CompletedProcess[str]:
    return run_reports("gate", *args)


def _build(tmp_path: Path, *files: Path) -> subprocess.CompletedProcess[str]:
    out = tmp_path / "report.html"
    return run_reports("build", *map(str, files), "-o", str(out))


def _wait_for_results(folder: Path, count: int, proc: subprocess.Popen[str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lines = [line for f in folder.glob("*.jsonl") for line in f.read_text().splitlines() if '"result"' in line]
        if len(lines) >= count:
            return
        assert proc.poll() is None, "the run ended before it could be interrupted"
        time.sleep(0.1)
    raise AssertionError(f"no {count} results in {folder} after {timeout} s")


def _results_files(tmp_path: Path) -> list[str]:
    return [str(f) for f in sorted((tmp_path / "results").glob("*.jsonl"))]


# -- 1. an interrupted run is incomplete ---------------------------------------------------------


def test_ctrl_c_of_a_single_process_run_fails_the_gate_and_marks_the_report(tmp_path: Path) -> None:
    _suite(tmp_path, n=200, sleep=0.2)  # 40 s of tests: under load the run must not finish before the SIGINT lands
    proc = subprocess.Popen(
        _pytest_args(), cwd=tmp_path, env=_env(), text=True, stdout=subprocess.PIPE, preexec_fn=hear_sigint
    )  # hear_sigint: a Ctrl-C reaches the run even when these tests were started in the background
    _wait_for_results(tmp_path / "results", 3, proc)
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=60)
    assert proc.returncode == 2
    (run,) = results.load([Path(f) for f in _results_files(tmp_path)])
    assert run.problems and "exit status 2 (interrupted)" in run.problems[0]
    gate = _gate(*_results_files(tmp_path), "--baseline-dir", str(tmp_path))
    assert gate.returncode == 1
    assert "INCOMPLETE" in gate.stdout and "exit status 2 (interrupted)" in gate.stdout
    assert gate.stdout.splitlines()[-1].startswith("gate FAILED")
    build = _build(tmp_path, *map(Path, _results_files(tmp_path)))
    assert build.returncode == 0, build.stderr
    assert "incomplete:" in (tmp_path / "report.html").read_text()


def test_sigkill_of_the_xdist_controller_fails_the_gate(tmp_path: Path) -> None:
    pytest.importorskip("xdist")
    _suite(tmp_path, n=40, sleep=0.2)
    proc = subprocess.Popen(
        _pytest_args("-n", "2"), cwd=tmp_path, env=_env(), text=True, stdout=subprocess.DEVNULL, start_new_session=True
    )
    try:
        _wait_for_results(tmp_path / "results", 4, proc)
        proc.kill()  # SIGKILL of the controller only: its workers lose their channel
        proc.wait(timeout=30)
        time.sleep(3)  # let the orphaned workers notice and write what they write
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    gate = _gate(*_results_files(tmp_path), "--baseline-dir", str(tmp_path))
    assert gate.returncode == 1, gate.stdout
    assert "INCOMPLETE: torch-2.13.0 cpu eager" in gate.stdout


def test_a_worker_killed_mid_test_is_recorded_as_an_error_cell(tmp_path: Path) -> None:
    pytest.importorskip("xdist")
    _suite(tmp_path, n=6, crash=True)
    proc = subprocess.run(_pytest_args("-n", "2"), cwd=tmp_path, env=_env(), text=True, capture_output=True, timeout=300)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    (run,) = results.load([Path(f) for f in _results_files(tmp_path)])
    crashed = [r for r in run.results if r["verdict"] == "error"]
    assert [r["cell"] for r in crashed] == ["vjp/segv/float64"]
    assert "crashed" in crashed[0]["message"] and "test_crash[segv]" in crashed[0]["test_id"]
    assert run.complete, run.problems  # every collected test has a result: the crash is an ERROR, not a gap
    gate = _gate(*_results_files(tmp_path), "--baseline-dir", str(tmp_path))
    assert gate.returncode == 1
    assert "NEW ERROR: torch-2.13.0 cpu eager vjp/segv/float64" in gate.stdout


def test_a_run_short_of_the_tests_it_collected_is_incomplete(tmp_path: Path) -> None:
    run_id = results.new_run_id()
    path = tmp_path / "r.jsonl"
    writer = results.ResultsWriter(path, results.run_record(run_id=run_id, label=LABEL, collected=3))
    writer.write(result(run_id, "unary", "vjp", "sin", "float64", "pass", __import__("random").Random(0)))
    writer.close(exitstatus=0)
    (run,) = results.load([path])
    assert run.problems == ["2 of the 3 collected conformance tests have no result"]


# -- 3. records the gate does not understand -------------------------------------------------------


def _one_result_file(tmp_path: Path, **override: object) -> Path:
    run_id = results.new_run_id()
    path = tmp_path / f"{LABEL}-cpu-eager.jsonl"
    writer = results.ResultsWriter(path, results.run_record(run_id=run_id, label=LABEL))
    record = result(run_id, "unary", "vjp", "sin", "float64", "pass", __import__("random").Random(0))
    writer.write({**record, **override})
    writer.close(exitstatus=0)
    return path


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ({"verdict": "FAIL"}, "field verdict: 'FAIL' must be one of"),
        ({"verdict": "timeout"}, "field verdict: 'timeout' must be one of"),
        ({"examples": "three"}, "field examples: 'three' must be integer"),
        ({"counts": {"passed": 1}}, "field counts"),
    ],
)
def test_a_record_off_the_schema_is_refused_with_file_and_line(tmp_path: Path, override: dict, expected: str) -> None:
    path = _one_result_file(tmp_path, **override)
    gate = _gate(str(path), "--baseline-dir", str(tmp_path))
    assert gate.returncode != 0
    assert f"{path}:2: result record, {expected}" in gate.stderr
    build = _build(tmp_path, path)
    assert build.returncode != 0 and f"{path}:2:" in build.stderr and "Traceback" not in build.stderr


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("[1]", "expected a JSON object"),
        ('{"kind": "result"}', "result record: missing required field.s. run_id, cell,"),
        ('{"kind": "resultz", "run_id": "x"}', "unknown record kind 'resultz'"),
    ],
)
def test_malformed_lines_name_the_file_and_line(tmp_path: Path, line: str, expected: str) -> None:
    path = _one_result_file(tmp_path)
    lines = path.read_text().splitlines()
    path.write_text("\n".join([lines[0], line, *lines[1:]]) + "\n")
    with pytest.raises(results.ResultsError, match=f"{path}:2: .*{expected}"):
        results.load([path])


def test_nan_and_non_utf8_are_refused_with_the_file(tmp_path: Path) -> None:
    path = _one_result_file(tmp_path)
    text = path.read_text().replace('"worst_ratio":', '"worst_ratio":NaN,"x":', 1)
    path.write_text(text)
    with pytest.raises(results.ResultsError, match=rf"{path}:2: .*NaN is not a JSON number"):
        results.load([path])
    path.write_bytes(path.read_bytes().replace(b"sin", "s\xefn".encode("latin-1"), 1))
    with pytest.raises(results.ResultsError, match=rf"{path}: not UTF-8 text"):
        results.load([path])


# -- 4. one writer per file ------------------------------------------------------------------------


def test_a_second_writer_of_the_same_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    first = results.ResultsWriter(path, results.run_record(run_id="a", label=LABEL))
    with pytest.raises(results.ResultsError, match="another run is writing this results file"):
        results.ResultsWriter(path, results.run_record(run_id="b", label=LABEL))
    first.close(exitstatus=0)
    assert results.read(path).run["run_id"] == "a"  # the refused writer truncated nothing


def test_two_runs_with_the_same_label_do_not_clobber_each_other(tmp_path: Path) -> None:
    _suite(tmp_path, n=10, sleep=2.0)  # long enough that the second run starts while the first writes
    first = subprocess.Popen(_pytest_args(), cwd=tmp_path, env=_env(), text=True, stdout=subprocess.DEVNULL)
    _wait_for_results(tmp_path / "results", 1, first)
    second = subprocess.run(_pytest_args(), cwd=tmp_path, env=_env(), text=True, capture_output=True, timeout=120)
    first.wait(timeout=120)
    assert second.returncode == pytest.ExitCode.USAGE_ERROR
    assert "another run is writing this results file" in second.stderr
    assert first.returncode == 0
    (run,) = results.load([Path(f) for f in _results_files(tmp_path)])
    assert run.complete and len(run.results) == 10


def test_a_file_written_by_two_runs_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    one, other = _one_result_file(tmp_path / "a"), _one_result_file(tmp_path)
    spliced = tmp_path / "spliced.jsonl"
    spliced.write_text(one.read_text() + other.read_text().splitlines()[1] + "\n")
    with pytest.raises(results.ResultsError, match=r"spliced.jsonl:4: run_id .* differs from the file's run"):
        results.load([spliced])
    spliced.write_text(one.read_text() + other.read_text())
    with pytest.raises(results.ResultsError, match=r"spliced.jsonl:4: a second run record"):
        results.load([spliced])


# -- 5. device typos are usage errors --------------------------------------------------------------


@pytest.mark.parametrize(("device", "expected"), [("bogus", "is not a torch device"), ("CPU", "is not a torch device"), ("mps", "is a device the suite does not run on")])
def test_a_device_typo_is_a_usage_error(tmp_path: Path, device: str, expected: str) -> None:
    proc = run_pytest([VARIABLE_SUITE, "-q", "--results-dir", str(tmp_path), "--device", device], ROOT, timeout=120)
    assert proc.returncode == pytest.ExitCode.USAGE_ERROR
    assert f"--device {device!r} {expected}" in proc.stderr
    assert not list(tmp_path.glob("*.jsonl")), "nothing is recorded for a device that does not exist"


def test_a_missing_cuda_index_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    from autograd_conformance.execution import check_device

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    assert check_device("cuda:0") is None
    with pytest.raises(ValueError, match="has 1 CUDA device"):
        check_device("cuda:7")


def test_require_device_fails_a_run_without_that_device(tmp_path: Path) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    args = [VARIABLE_SUITE, "-q", "--results-dir", str(tmp_path), "--device", "cuda", "--require-device"]
    proc = run_pytest(args, ROOT, timeout=120)
    assert proc.returncode == pytest.ExitCode.USAGE_ERROR
    assert "--require-device" in proc.stderr and "no CUDA device" in proc.stderr
    assert "--require-device" in (ROOT / "scripts" / "cuda-conformance.sh").read_text()


# -- 6. a column that never ran: the nox session fails ---------------------------------------------


def test_the_nox_session_fails_when_torch_does_not_install(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("nox")
    from nox.command import CommandFailed

    sys.path.insert(0, str(ROOT))
    try:
        import noxfile
    finally:
        sys.path.remove(str(ROOT))

    class SessionFailedError(Exception):
        pass

    class Session:
        posargs: list[str] = []
        ran: list[tuple[str, ...]] = []

        def install(self, *args: str) -> None:
            raise CommandFailed("no such torch")

        def run(self, *args: str, **kwargs: object) -> None:
            self.ran.append(args)

        def warn(self, *args: object) -> None:
            pass

        def error(self, message: str) -> None:
            raise SessionFailedError(message)

    session = Session()
    with pytest.raises(SessionFailedError, match="torch 9.9.9 was not tested"):
        noxfile.run_conformance(session, "9.9.9")  # type: ignore[arg-type]
    assert any("not-run" in args for args in session.ran), "the column is still recorded as not run"


# -- 7. baselines that can never match -------------------------------------------------------------

CATALOG = catalog.load()


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("vjp/sinn/float64 | typo | https://x.invalid/1", "unknown op 'sinn'; did you mean sin"),
        ("vpj/sin/float64 | typo | https://x.invalid/1", "unknown property 'vpj'"),
        ("vjp/sin/float8 | typo | https://x.invalid/1", "unknown dtype 'float8'"),
        ("vjp/sin/float64@gpu | typo | https://x.invalid/1", "unknown device 'gpu'"),
        ("vjp/sin/float64@cpu/jit | typo | https://x.invalid/1", "unknown execution path 'jit'"),
        ("suites/test_gradients.py::test_vjp[nope] | typo | https://x.invalid/1", "is not a test of the suite"),
        ("vjp/sin/float64 | x | repro:baselines/repros/nope.py", "repro script"),
    ],
)
def test_a_baseline_entry_that_can_never_match_is_an_error(tmp_path: Path, line: str, expected: str) -> None:
    path = tmp_path / "torch-2.13.0.txt"
    path.write_text(f"# header\n{line}\n")
    with pytest.raises(baselines.BaselineError, match=rf"torch-2.13.0.txt:2.*{expected}"):
        baselines.load(path, root=ROOT, catalog=CATALOG)


def test_a_bom_is_stripped_and_latin_1_is_named(tmp_path: Path) -> None:
    path = tmp_path / "torch-2.13.0.txt"
    path.write_bytes("\ufeffvjp/sin/float64 | known | https://x.invalid/1\n".encode())
    assert [e.id for e in baselines.load(path, catalog=CATALOG).entries] == ["vjp/sin/float64"]
    path.write_bytes("vjp/sin/float64 | caf\xe9 | https://x.invalid/1\n".encode("latin-1"))
    with pytest.raises(baselines.BaselineError, match=r"torch-2.13.0.txt: not UTF-8 text"):
        baselines.load(path)


def test_the_gate_refuses_an_entry_that_can_never_match(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / f"{LABEL}.txt").write_text("vjp/sinn/float64 | typo | https://x.invalid/1\n")
    path = _one_result_file(tmp_path)
    gate = _gate(str(path), "--baseline-dir", str(tmp_path / "b"))
    assert gate.returncode != 0 and "unknown op 'sinn'" in gate.stderr


def test_the_committed_baselines_and_catalog_are_sound() -> None:
    for path in sorted((ROOT / "baselines").glob("*.txt")):
        assert len(baselines.load(path, root=ROOT, catalog=CATALOG)) > 0


@pytest.mark.slow
def test_the_catalog_is_current() -> None:
    assert catalog.collect(ROOT) == catalog.CATALOG_FILE.read_text(), "run `python -m autograd_conformance.reports catalog` and commit it"


# -- 8. an empty or torn-first-line file does not block the report --------------------------------


@pytest.mark.parametrize("content", ["", '{"kind":"run","sch'])
def test_an_empty_or_torn_file_is_skipped_and_its_column_marked_incomplete(tmp_path: Path, content: str) -> None:
    good = _one_result_file(tmp_path)
    empty = tmp_path / "torch-2.9.1-cpu-eager.gw0.jsonl"
    empty.write_text(content)
    gate = _gate(str(good), str(empty), "--baseline-dir", str(tmp_path))
    assert gate.returncode == 1
    assert f"warning: {empty}" in gate.stderr
    assert "INCOMPLETE: torch-2.9.1 cpu eager" in gate.stdout
    build = _build(tmp_path, good, empty)
    assert build.returncode == 0, build.stderr
    assert "2 columns" in build.stdout


# -- 9. messages that help -------------------------------------------------------------------------


def test_an_unknown_profile_lists_the_profiles(tmp_path: Path) -> None:
    args = [VARIABLE_SUITE, "-q", "--results-dir", str(tmp_path)]
    proc = run_pytest(args, ROOT, timeout=120, env={"CONFORMANCE_PROFILE": "nope"})
    assert proc.returncode == pytest.ExitCode.USAGE_ERROR
    assert "'nope' is not a Hypothesis profile of this suite; use one of default, ci, fast, thorough" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_broken_jax_install_shows_its_cause(tmp_path: Path) -> None:
    fake = tmp_path / "fake" / "jax"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('simulated: jaxlib was built for another numpy')\n")
    args = [VARIABLE_SUITE, "-q", "--results-dir", str(tmp_path)]
    proc = run_pytest(args, ROOT, timeout=120, env={"PYTHONPATH": str(tmp_path / "fake")})
    assert proc.returncode == pytest.ExitCode.USAGE_ERROR
    assert "`import jax` failed: ImportError: simulated: jaxlib was built for another numpy" in proc.stderr
    assert not list(tmp_path.glob("*.jsonl")), "nothing was recorded"
