"""pytest plugin: the ``record`` and ``run_options`` fixtures, results files, and known-failure baselines.

Loaded by the repository's ``conftest.py``.  Every conformance test (one that
uses ``record`` or carries ``@pytest.mark.conformance``) becomes one line of
``<results-dir>/<label>-<device>-<path>[.<xdist worker>].jsonl``, flushed as
soon as it ends.  Tests listed in the baseline are marked xfail (non-strict),
so known failures keep the exit status at 0 and a new FAIL or ERROR makes it
non-zero: that exit status is the CI gate.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import pytest

from autograd_conformance.facts import FailureFacts, jsonable
from autograd_conformance.run_options import RunOptions
from autograd_conformance.verdict import Verdict

from . import baseline as baselines
from . import catalog, replay, sharding
from .recorder import BlindCellError, CellId, Recorder, cell_of
from .results import (
    EXEC_PATHS,
    FAILING,
    ResultsError,
    ResultsWriter,
    default_label,
    new_run_id,
    results_filename,
    run_record,
)

RECORDER = pytest.StashKey[Recorder]()
ENTRY = pytest.StashKey["baselines.Entry | None"]()
PLUGIN = pytest.StashKey["ConformancePlugin"]()
MAX_MESSAGE = 4000


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("conformance", "autograd conformance results and baselines")
    group.addoption("--device", default="cpu", help="device torch runs on (cpu, cuda, cuda:N); oracles stay on the CPU")
    group.addoption(
        "--require-device",
        action="store_true",
        help="fail the run (usage error) when --device is not available here, instead of recording its cells as not run",
    )
    group.addoption("--exec-path", default="eager", choices=EXEC_PATHS, help="execution path (default: eager)")
    group.addoption("--results-dir", default="results", help="folder for the JSONL results (default: results)")
    group.addoption("--results-label", default=None, help="column label (default: torch-<installed version>)")
    group.addoption("--baseline", default=None, help="known-failure file (default: baselines/<label>.txt if present)")
    group.addoption("--no-baseline", action="store_true", help="ignore known failures: every failure fails")
    group.addoption(
        "--record-examples",
        action="store_true",
        help="save failing examples to the examples folder, to replay known failures later",
    )
    group.addoption("--examples-dir", default=None, help="recorded examples (default: baselines/examples)")
    group.addoption(
        "--shard", default=None, metavar="K/N",
        help="run the K-th of N shards of the selection (autograd_conformance/reports/sharding.py); the report merges the shards' results",
    )  # fmt: skip
    group.addoption(
        "--shard-durations", default=str(sharding.DURATIONS), metavar="FILE",
        help="measured test durations that balance the shards (default: suites/durations.json)",
    )  # fmt: skip


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "conformance(property): a conformance test; property names its row in the report"
    )
    plugin = ConformancePlugin(config)
    config.stash[PLUGIN] = plugin
    config.pluginmanager.register(plugin, "conformance-results")
    if config.pluginmanager.hasplugin("xdist"):
        config.pluginmanager.register(XdistHooks(plugin), "conformance-xdist")
    if plugin.shard is not None:
        config.pluginmanager.register(ShardSelection(plugin), "conformance-shard")


@pytest.fixture(scope="session")
def run_options(pytestconfig: pytest.Config) -> RunOptions:
    """The device and execution path this run gives torch (``--device``, ``--exec-path``): pass it to the draws."""
    return pytestconfig.stash[PLUGIN].options


@pytest.fixture
def record(request: pytest.FixtureRequest) -> Recorder:
    """Call ``record.add(outcome, repro=...)`` for every comparison the test makes."""
    plugin = request.config.stash[PLUGIN]
    recorder = Recorder(scoped=plugin.scoped_entries(request.node))
    request.node.stash[RECORDER] = recorder
    return recorder


class XdistHooks:
    """The controller's side of an xdist run.

    It hands its run id to every worker, so their files merge into one run; it learns
    each test's cell from the workers; and when a worker dies (a segfault in a torch op,
    a kill), it records the test that worker was running as an ERROR result in its own
    file, the run's lead file, which it closes with pytest's exit status.
    """

    def __init__(self, plugin: ConformancePlugin) -> None:
        self.plugin = plugin
        self.cells: dict[str, list[str]] = {}
        self.crashed: list[tuple[str, str]] = []

    def pytest_configure_node(self, node: Any) -> None:
        node.workerinput["conformance_run_id"] = self.plugin.run_id

    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        self.cells.update(getattr(node, "workeroutput", {}).get("conformance_cells", {}))

    def pytest_handlecrashitem(self, crashitem: str, report: pytest.TestReport, sched: Any) -> None:
        self.crashed.append((crashitem, str(report.longrepr)))

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        for nodeid, message in self.crashed:
            name = nodeid.split("::")[-1].split("[")[0].removeprefix("test_")
            cell = CellId(*(self.cells.get(nodeid) or [name, "-", "-", "-"]))
            result = self.plugin.crash_result(nodeid, cell, message)
            self.plugin.results.append(result)
            self.plugin.write(result)


class ShardSelection:
    """``--shard K/N``: keep this shard's tests, after -k and -m have chosen the selection (autograd_conformance.reports.sharding)."""

    def __init__(self, plugin: ConformancePlugin) -> None:
        self.plugin = plugin

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        shard = self.plugin.shard
        assert shard is not None
        try:
            durations = sharding.load_durations(Path(config.getoption("--shard-durations")))
        except ValueError as exc:
            raise pytest.UsageError(str(exc)) from None
        mine, others, groups = sharding.assign(items, shard, durations)
        cells: dict[int, list[list[str]]] = {index: [] for index in range(1, shard.count + 1)}
        for item in items:
            if _is_conformance(item):
                cell = cell_of(item)
                cells[groups[sharding.group_of(item)]].append([cell.cell, cell.family, item.nodeid])
        self.plugin.shard_record = sharding.record(shard, cells)
        items[:] = mine
        config.hook.pytest_deselected(items=others)


def _is_conformance(item: pytest.Item) -> bool:
    return item.get_closest_marker("conformance") is not None or "record" in getattr(item, "fixturenames", ())


def _verdict_of_exception(call: pytest.CallInfo[None], recorder: Recorder | None) -> str:
    if recorder is not None and recorder.failing is not None and recorder.failing.verdict == Verdict.ERROR:
        return Verdict.ERROR.value
    exc = call.excinfo.value if call.excinfo else None
    if isinstance(exc, BlindCellError):
        return Verdict.BLIND.value
    leaves = list(exc.exceptions) if isinstance(exc, BaseExceptionGroup) else [exc]
    return (Verdict.FAIL if all(isinstance(leaf, AssertionError) for leaf in leaves) else Verdict.ERROR).value


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr or "skipped")


def _cuda_run_fields() -> dict[str, Any]:
    """What a CUDA column's numbers depend on: the GPU and the TF32 setting (autograd_conformance.execution)."""
    import torch

    from autograd_conformance.execution import tf32_setting

    name = torch.cuda.get_device_name() if torch.cuda.is_available() else None
    return {"cuda_device_name": name, "tf32": tf32_setting()}


class ConformancePlugin:
    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        workerinput = getattr(config, "workerinput", None)
        self.worker: str | None = workerinput["workerid"] if workerinput else None
        self.run_id: str = (workerinput or {}).get("conformance_run_id") or new_run_id()
        self.label: str = config.getoption("--results-label") or default_label()
        self.options = RunOptions.from_config(config)
        self.device, self.path = self.options.device, self.options.path  # the results file's column
        cwd = config.invocation_params.dir
        self.results_dir = cwd / config.getoption("--results-dir")
        self.examples_dir = Path(config.getoption("--examples-dir") or config.rootpath / "baselines" / "examples")
        self.record_examples: bool = config.getoption("--record-examples")
        self.baseline = self._load_baseline()
        self.writer: ResultsWriter | None = None
        self.results: list[dict[str, Any]] = []
        try:
            self.shard = sharding.Shard.parse(config.getoption("--shard")) if config.getoption("--shard") else None
        except ValueError as exc:
            raise pytest.UsageError(str(exc)) from None
        self.shard_record: dict[str, Any] | None = None  # the plan, where this process collected

    def _load_baseline(self) -> baselines.Baseline | None:
        if self.config.getoption("--no-baseline"):
            return None
        chosen = self.config.getoption("--baseline")
        path = Path(chosen) if chosen else baselines.path_for(self.config.rootpath / "baselines", self.label)
        if not chosen and not path.is_file():
            return None
        catalog_file = self.config.rootpath / "suites" / "catalog.txt"
        known_cells = catalog.load(catalog_file) if catalog_file.is_file() else None
        try:
            return baselines.load(path.resolve(), root=self.config.rootpath, catalog=known_cells)
        except baselines.BaselineError as exc:
            raise pytest.UsageError(str(exc)) from None

    def scoped_entries(self, item: pytest.Item) -> tuple[baselines.Entry, ...]:
        """The baseline's scoped entries for this test's cell: they are matched example by example."""
        if self.baseline is None:
            return ()
        cell = cell_of(item)
        return self.baseline.scoped(cell=cell.cell, device=self.device, path=self.path, test_id=item.nodeid)

    # -- collection: whole-cell known failures become non-strict xfails ----------------------
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        for item in items:
            entry = None
            if self.baseline is not None and _is_conformance(item):
                cell = cell_of(item)
                entry = self.baseline.find(cell=cell.cell, device=self.device, path=self.path, test_id=item.nodeid)
            item.stash[ENTRY] = entry
            if entry is not None:
                reason = f"known failure, {entry.describe()}"
                item.add_marker(pytest.mark.xfail(reason=reason, strict=False))

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        """Open the results file as soon as the run knows what it will run: a second writer fails here."""
        items = [item for item in session.items if _is_conformance(item)]
        if not items and self.shard_record is None:  # an empty shard still says it ran: its file has the plan
            return
        self.open(collected=len(items))
        workeroutput = getattr(self.config, "workeroutput", None)
        if workeroutput is not None:  # the controller learns each test's cell, to record a crashed worker's test
            workeroutput["conformance_cells"] = {item.nodeid: list(cell_of(item)) for item in items}

    # -- running: replay known failures, record examples -------------------------------------
    @pytest.hookimpl(wrapper=True, trylast=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Any:
        if self.record_examples and _is_conformance(item):
            examples = replay.settings_for(item, replay.record_settings, self.examples_dir)
        elif item.stash.get(ENTRY, None) is not None:
            examples = replay.settings_for(item, replay.replay_settings, self.examples_dir)
        else:
            examples = contextlib.nullcontext()
        with examples:
            outcome = yield
        recorder = item.stash.get(RECORDER, None)
        blind = recorder.blind() if recorder is not None else None
        if blind:  # the health check: a cell that decided too few of its examples fails as BLIND
            raise BlindCellError(blind)
        if recorder is not None and recorder.known is not None:  # only failures a scoped entry explains
            pytest.xfail(f"known failure in {recorder.known_examples} examples, {recorder.known.describe()}")
        return outcome

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
        report: pytest.TestReport = yield
        if not _is_conformance(item):
            return report
        if report.when == "call" or (report.when == "setup" and not report.passed):
            result = self._result(item, call, report)
            self.write(result)
            report.user_properties.append(("conformance", result))
        return report

    def _result(self, item: pytest.Item, call: pytest.CallInfo[None], report: pytest.TestReport) -> dict[str, Any]:
        recorder = item.stash.get(RECORDER, None)
        cell = cell_of(item)
        message, repro, failure, entry = "", None, None, None
        expected_failure = hasattr(report, "wasxfail") and report.skipped
        scoped_known = (
            recorder is not None and recorder.known is not None and recorder.failing is None
            and call.excinfo is not None and call.excinfo.errisinstance(pytest.xfail.Exception)
        )  # fmt: skip
        if report.skipped and not expected_failure:
            verdict, message = "not_run", _skip_reason(report)
        elif scoped_known:  # every failing example lies in a scoped entry's scope
            assert recorder is not None and recorder.known_outcome is not None
            verdict, message = recorder.known_outcome.verdict.value, recorder.known_outcome.message
            repro, failure, entry = recorder.known_repro, recorder.known_facts, recorder.known
        elif report.failed or expected_failure:
            verdict = "error" if report.when == "setup" else _verdict_of_exception(call, recorder)
            failing = recorder.failing if recorder else None
            message = (
                failing.message if failing and failing.message else (call.excinfo.exconly() if call.excinfo else "")
            )
            repro = recorder.repro if recorder else None
            failure = recorder.failing_facts if recorder else None
        else:
            verdict = recorder.verdict() if recorder else "inconclusive"
            if recorder and recorder.worst is not None:
                message = recorder.worst.message
        summary = (recorder or Recorder()).summary()
        return self._record(
            item.nodeid, cell, verdict, summary, round(report.duration, 4), message, repro, failure=failure, entry=entry
        )

    def crash_result(self, test_id: str, cell: CellId, message: str) -> dict[str, Any]:
        """The ERROR result of a test whose process died under it (recorded by the xdist controller)."""
        message = f"the process running this test died: {message}"
        return self._record(test_id, cell, Verdict.ERROR.value, Recorder().summary(), 0.0, message, None)

    def _record(
        self, test_id: str, cell: CellId, verdict: str, summary: dict[str, Any], duration: float, message: str,
        repro: str | None, *, failure: FailureFacts | None = None, entry: baselines.Entry | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        """One result record: the one place its fields are written.

        ``entry``: the scoped baseline entry that explained the failing examples; else the
        whole-cell entry, if any, is looked up here.  ``failure``: the failing example's facts.
        """
        base = self.baseline
        if entry is None and base is not None:
            entry = base.find(cell=cell.cell, device=self.device, path=self.path, test_id=test_id)
        return {
            "kind": "result",
            "run_id": self.run_id,
            "cell": cell.cell,
            "test_id": test_id,
            "property": cell.property,
            "op": cell.op,
            "family": cell.family,
            "dtype": cell.dtype,
            "device": self.device,
            "path": self.path,
            "verdict": verdict,
            "known": entry is not None,
            "baseline": entry.describe() if entry else None,
            "facts": jsonable(failure.decisive) if failure else None,
            "other_facts": [jsonable(f) for f in failure.others] if failure else None,
            **summary,
            "duration_s": duration,
            "message": message[:MAX_MESSAGE],
            "repro": repro,
        }

    def open(self, *, collected: int | None = None) -> None:
        """Create this process's results file (the lead file on a single process or the xdist controller)."""
        if self.writer is not None:
            return
        from hypothesis import settings

        name = results_filename(self.label, self.device, self.path, self.worker, self._shard_suffix)
        seed = self.config.getoption("hypothesis_seed", None)
        run = run_record(
            run_id=self.run_id,
            label=self.label,
            device=self.device,
            path=self.path,
            profile=getattr(settings, "_current_profile", None),
            seed=None if seed is None else str(seed),
            worker=self.worker,
            collected=collected,
            workers=getattr(self.config.option, "numprocesses", None) if self._xdist() else None,
            shard=self.shard_record or ({"index": self.shard.index, "count": self.shard.count} if self.shard else None),
        )
        if self.device.startswith("cuda"):
            run.update(_cuda_run_fields())
        try:
            self.writer = ResultsWriter(self.results_dir / name, run)
        except ResultsError as exc:
            raise pytest.UsageError(str(exc)) from None

    def write(self, result: dict[str, Any]) -> None:
        self.open()
        assert self.writer is not None
        self.writer.write(result)

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if self.writer is not None:
            self.writer.close(exitstatus=int(exitstatus))

    # -- summary (on the xdist controller too: results travel in report.user_properties) -----
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        for name, value in report.user_properties:
            if name == "conformance":
                self.results.append(value)
                if self._xdist():
                    self.open()  # the controller's lead file: it ends the run with pytest's exit status

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not self.results:
            return
        write = terminalreporter
        new = [r for r in self.results if r["verdict"] in FAILING and not r["known"]]
        stale = [r for r in self.results if r["known"] and r["verdict"] not in FAILING and r["verdict"] != "not_run"]
        if new:
            write.section("new conformance failures (not in the baseline)", red=True)
            for result in new:
                write.write_line(f"{result['verdict'].upper()} {result['cell']}  ({result['test_id']})")
                write.write_line(f"  {result['message'].splitlines()[0] if result['message'] else ''}")
                if result.get("repro"):
                    write.write_line("  repro:")
                    for line in result["repro"].splitlines():
                        write.write_line(f"    {line}")
            write.write_line("Fix them, or list them as known failures: see autograd_conformance/reports/baseline.py for the format.")
        if stale:
            write.section("stale baseline entries (these known failures passed this run)", yellow=True)
            for result in stale:
                write.write_line(f"{result['baseline']}  ({result['cell']}: {result['verdict']})")
            write.write_line("Remove them from the baseline once they pass reliably.")
        files = (
            f"{self.results_dir}/"
            f"{results_filename(self.label, self.device, self.path, '*' if self._xdist() else None, self._shard_suffix)}"
        )
        write.section("conformance results", bold=True)
        write.write_line(f"{len(self.results)} cells written to {files}")
        write.write_line(f"report: python -m autograd_conformance.reports build {self.results_dir}/*.jsonl -o reports/html/index.html")

    @property
    def _shard_suffix(self) -> str | None:
        return self.shard.suffix if self.shard else None

    def _xdist(self) -> bool:
        return bool(getattr(self.config.option, "numprocesses", None)) and self.worker is None
