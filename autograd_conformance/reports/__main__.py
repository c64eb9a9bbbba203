"""``python -m autograd_conformance.reports build|gate|not-run|catalog|schema|soak``: see ``--help`` of each."""

from __future__ import annotations

import argparse
import glob
import json
import sys
import warnings
from pathlib import Path

from . import build, gate, results
from .baseline import BaselineError

SCHEMA = Path(__file__).parent / "schema.json"


def _show_warning(message: Warning | str, *args: object, **kwargs: object) -> None:
    print(f"warning: {message}", file=sys.stderr)


def _load(paths: list[str], what: str) -> list[results.Run]:
    files = [Path(p) for p in paths]
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise SystemExit(
            f"error: {what} not found: {', '.join(missing)}; run `nox -s conformance` (or pytest suites) "
            "to write results, or pass existing results/*.jsonl files"
        )
    if not files:
        raise SystemExit(f"error: no {what} given; pass results/*.jsonl")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always")
            warnings.showwarning = _show_warning
            return results.load(files)
    except ValueError as exc:
        raise SystemExit(f"error: {exc}") from None


def cmd_build(args: argparse.Namespace) -> int:
    runs = _load(args.results, "results files")
    compare = _load(args.compare, "--compare files") if args.compare else None
    baseline_dir = Path(args.baseline_dir) if args.baseline_dir else None
    try:
        figures = [Path(f) for pattern in args.figures for f in (sorted(glob.glob(pattern)) or [pattern])]
        out = build.build(runs, Path(args.output), compare=compare, baseline_dir=baseline_dir, figures=figures)
    except (BaselineError, ValueError) as exc:
        raise SystemExit(f"error: {exc}") from None
    print(f"report: {out.resolve()}  ({sum(len(r.results) for r in runs)} results, {len(runs)} columns)")
    return 0


def cmd_gate(args: argparse.Namespace) -> int:
    runs = _load(args.results, "results files")
    try:
        report = gate.check(runs, Path(args.baseline_dir), expect=args.expect, allow_incomplete=args.allow_incomplete)
    except BaselineError as exc:
        raise SystemExit(f"error: {exc}") from None
    gate.print_report(report, sys.stdout)
    return 0 if report.ok() else 1


def cmd_not_run(args: argparse.Namespace) -> int:
    out = Path(args.output or Path("results") / results.results_filename(args.label, args.device, args.path))
    results.write_not_run(out, label=args.label, reason=args.reason, device=args.device, path=args.path)
    print(f"recorded {args.label} ({args.device}, {args.path}) as not run: {args.reason} -> {out}")
    return 0


def cmd_catalog(args: argparse.Namespace) -> int:
    from . import catalog

    text = catalog.collect(Path(__file__).resolve().parents[2])
    catalog.CATALOG_FILE.write_text(text, encoding="utf-8")
    print(f"catalog: {text.count(chr(10)) - 1} conformance tests -> {catalog.CATALOG_FILE}")
    return 0


def cmd_durations(args: argparse.Namespace) -> int:
    from . import sharding

    runs = _load(args.results, "results files")
    durations = sharding.durations_from_results([r for run in runs for r in run.results if r["verdict"] != "not_run"])
    out = Path(args.output)
    out.write_text(json.dumps(durations, indent=0) + "\n", encoding="utf-8")
    print(f"durations: {len(durations)} tests, {sum(durations.values()) / 60:.1f} min in all -> {out}")
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    print(SCHEMA.read_text(encoding="utf-8"), end="")
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m autograd_conformance.reports", description=__doc__)
    sub = top.add_subparsers(dest="command", required=True)
    p = sub.add_parser("build", help="render results into one self-contained HTML report")
    p.add_argument("results", nargs="+", help="results files (results/*.jsonl)")
    p.add_argument("-o", "--output", default="reports/html/index.html", help="HTML file to write")
    p.add_argument("--baseline-dir", default=None, help="re-apply known failures from this folder (baselines)")
    p.add_argument("--compare", nargs="+", default=None, metavar="OLD", help="older results to diff against")
    p.add_argument(
        "--figures", nargs="*",
        default=["results/bench.json", "results/sharpness.json", "results/soak/summary.json", "results/coverage-*.json"],
        help="measured speed, sharpness, soak and OpInfo-coverage figures to show, where present (default: "
        "results/bench.json results/sharpness.json results/soak/summary.json results/coverage-*.json; a soak's "
        "findings.jsonl beside its summary is listed too)",
    )  # fmt: skip
    p.set_defaults(func=cmd_build)
    p = sub.add_parser("gate", help="exit 1 on any FAIL/ERROR cell not in its label's baseline")
    p.add_argument("results", nargs="+", help="results files (results/*.jsonl)")
    p.add_argument("--baseline-dir", default="baselines", help="folder of <label>.txt baselines (default: baselines)")
    p.add_argument("--allow-incomplete", action="store_true", help="do not fail on runs that crashed or were killed")
    p.add_argument(
        "--expect", action="append", default=[], metavar="LABEL",
        help="a column label (torch-2.13.0) that must have run; repeat it for each version the gate is about",
    )  # fmt: skip
    p.set_defaults(func=cmd_gate)
    p = sub.add_parser("not-run", help="record a column that could not run (e.g. torch failed to install)")
    p.add_argument("--label", required=True, help="column label, e.g. torch-2.4.1")
    p.add_argument("--reason", required=True, help="why it did not run")
    p.add_argument("--device", default="cpu")
    p.add_argument("--path", "--exec-path", dest="path", default="eager")
    p.add_argument("-o", "--output", default=None, help="results file (default: results/<label>-<device>-<path>.jsonl)")
    p.set_defaults(func=cmd_not_run)
    p = sub.add_parser("catalog", help="regenerate suites/catalog.txt (every test's cell) from the suites")
    p.set_defaults(func=cmd_catalog)
    p = sub.add_parser(
        "durations", help="write the measured test durations that balance --shard K/N (autograd_conformance/reports/sharding.py)"
    )
    p.add_argument("results", nargs="+", help="results files (results/*.jsonl) of a whole, unsharded run")
    p.add_argument(
        "-o", "--output", default="suites/durations.json", help="durations file (default: suites/durations.json)"
    )
    p.set_defaults(func=cmd_durations)
    sub.add_parser("soak", help="the suite under fresh random seeds for a time budget (autograd_conformance/reports/soak.py; --help)")
    p = sub.add_parser("schema", help="print the JSON Schema of the results format")
    p.set_defaults(func=cmd_schema)
    return top


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["soak"]:  # its own options, and pytest's after them
        from . import soak

        return soak.main(argv[1:])
    args = parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
