"""The GitHub Actions example (.github/workflows/conformance.yml) is valid and runs what the noxfile defines."""

from __future__ import annotations

import re

import yaml

from noxfile import TORCH_VERSIONS
from tests.helpers import ROOT
from tests.test_project_setup import nox_sessions

WORKFLOW = ROOT / ".github" / "workflows" / "conformance.yml"


def workflow() -> dict:
    data = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    assert isinstance(data, dict) and isinstance(data.get("jobs"), dict), f"{WORKFLOW}: not a workflow"
    return data


def run_lines(job: dict) -> list[str]:
    return [step["run"] for step in job["steps"] if "run" in step]


def expand(command: str, matrix: dict, env: dict) -> list[str]:
    """A run line with its ${{ env.* }} filled in, once per value of each ${{ matrix.* }} it uses."""
    for key, value in env.items():
        command = command.replace("${{ env." + key + " }}", str(value))
    out = [command]
    for key, values in matrix.items():
        token = "${{ matrix." + key + " }}"
        if token in command:
            out = [c.replace(token, str(v)) for c in out for v in values]
    return out


def test_the_workflow_runs_a_job_per_version_and_shard_then_merges() -> None:
    data = workflow()
    assert {"push", "pull_request"} <= set(data.get("on", data.get(True)))  # YAML 1.1 reads the key `on` as True
    jobs = data["jobs"]
    matrix = jobs["suite"]["strategy"]["matrix"]
    assert matrix["torch"] == list(TORCH_VERSIONS), "a suite job for every torch version of the noxfile's matrix"
    shards = int(data["env"]["SHARDS"])
    assert matrix["shard"] == list(range(1, shards + 1))
    commands = [c for line in run_lines(jobs["suite"]) for c in expand(line, matrix, data["env"])]
    for version in TORCH_VERSIONS:
        for shard in range(1, shards + 1):
            assert f"python -m nox -s conformance-{version} -- --shard {shard}/{shards}" in " ".join(commands)
    uploads = [s for s in jobs["suite"]["steps"] if s.get("uses", "").startswith("actions/upload-artifact")]
    assert uploads and uploads[0]["if"] == "always()" and uploads[0]["with"]["path"] == "results/"
    report = jobs["report"]
    assert report["needs"] == "suite" and report["if"] == "always()", "a failed shard still reaches the report"
    download = next(s for s in report["steps"] if s.get("uses", "").startswith("actions/download-artifact"))
    assert uploads[0]["with"]["name"].startswith(download["with"]["pattern"].rstrip("*"))
    gate = " ".join(run_lines(report))
    assert "nox -s report" in gate and "nox -s gate" in gate
    for version in TORCH_VERSIONS:
        assert f"--expect torch-{version}" in gate, "the gate fails a version that did not run"


def test_every_command_of_the_workflow_is_a_nox_session() -> None:
    data = workflow()
    sessions = set(nox_sessions())
    for job in data["jobs"].values():
        matrix = job.get("strategy", {}).get("matrix", {})
        for line in run_lines(job):
            for command in expand(line, matrix, data["env"]):
                for name in re.findall(r"nox -s ([\w.\-]+)", command):
                    assert name in sessions, f"{WORKFLOW.name} runs `nox -s {name}`, which the noxfile does not define"
