"""``pytest suites --ops FILE``: a user's ops join the suite's per-op cells and its random trees.

Each run is a subprocess: adding ops changes the registry of the process that loads them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OPS_FILE = ROOT / "examples" / "my_suite_ops.py"


def _python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, capture_output=True, text=True)


def test_the_ops_join_the_registry_and_random_trees_place_them() -> None:
    run = _python(f"""
        from hypothesis import find, settings, strategies as st
        from autograd_conformance.suite_ops import join_suite
        added = join_suite({str(OPS_FILE)!r})
        from autograd_conformance import registry
        from autograd_conformance.strategies import labelled
        from autograd_conformance.strategies.trees import TREE_OPS, draw_tree
        names = [op.spec.name for op in added]
        assert all(n in registry.OPS_BY_NAME for n in names), names
        assert all(n in [op.name for op in TREE_OPS] for n in names)
        # Among a few tree ops (with 435 a one-op tree draws LogCosh 1 time in 435): the tree builder places it
        few = [op for op in TREE_OPS if op.name in ("LogCosh", "exp", "sin", "mul", "tanh")]
        @st.composite
        def trees(draw):
            return draw_tree(labelled(draw(st.data())), max_ops=3, ops=few)
        tree = find(trees(), lambda t: "LogCosh" in [op.name for op in t.ops] and len(t.ops) > 1,
                    settings=settings(max_examples=5000, database=None))
        print(tree.source)
        print(sorted(registry.KNOWN_BROKEN))
    """)
    assert run.returncode == 0, run.stderr[-3000:]
    source, broken = run.stdout.strip().splitlines()[-2:]
    assert "LogCosh.apply(" in source
    assert broken == "['second_fwd_fwd', 'third_fwd']"  # a Function meets pytorch#197867


def test_the_suite_runs_their_cells_and_expects_the_known_torch_bug(tmp_path: Path) -> None:
    env = {**os.environ, "CONFORMANCE_PROFILE": "fast"}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "suites/test_gradients.py", "-k", "LogCosh and (test_vjp or second_fwd_fwd)",
         "--ops", str(OPS_FILE), "-p", "no:cacheprovider", "-q", "-n", "0", "--results-dir", str(tmp_path)],
        cwd=ROOT, env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-3000:]
    assert "1 passed" in run.stdout and "1 xfailed" in run.stdout and "pytorch/pytorch#197867" in run.stdout
    (results,) = tmp_path.glob("*.jsonl")
    records = [json.loads(line) for line in results.read_text().splitlines()]
    cells = {r["cell"]: r for r in records if r["kind"] == "result"}
    assert cells["vjp/LogCosh/float64"]["verdict"] == "pass"
    assert cells["vjp/LogCosh/float64"]["family"] == "user"


def test_a_bad_ops_file_is_a_clear_usage_error(tmp_path: Path) -> None:
    no_reference = tmp_path / "ops.py"
    no_reference.write_text(
        "import torch\nfrom autograd_conformance import declare_op\nsquare = declare_op(torch.square, inputs=[(3,)])\n"
    )
    empty = tmp_path / "empty.py"
    empty.write_text("x = 1\n")
    for path, message in [
        (no_reference, "have no jax_ref; the suite holds every op to JAX"),
        (empty, "declares no ops"),
        (tmp_path / "missing.py", "no such file"),
    ]:
        run = subprocess.run(
            [sys.executable, "-m", "pytest", "suites/test_gradients.py", "--ops", str(path), "--collect-only", "-q"],
            cwd=ROOT, capture_output=True, text=True,
        )  # fmt: skip
        assert run.returncode == 4, (path, run.stdout[-500:], run.stderr[-1500:])
        assert message in run.stderr, run.stderr[-1500:]
