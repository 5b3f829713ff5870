"""prefect.yaml deployed to a real local Prefect server and run by a real process worker."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterFlowRunId,
    FlowRunFilter,
    FlowRunFilterDeploymentId,
)
from prefect.settings import PREFECT_API_URL

from tests.sources import edge_case_rows, write_source

REPO = Path(__file__).resolve().parent.parent
PREFECT = str(Path(sys.executable).parent / "prefect")
COPY_IGNORE = shutil.ignore_patterns(".git", ".venv", ".voc", "target", "logs", "__pycache__", "*.duckdb")


def code_repository(tmp_path: Path) -> Path:
    """The working tree as a git repository, so the worker's git_clone pull step runs this code."""
    repo = tmp_path / "repo"
    shutil.copytree(REPO, repo, ignore=COPY_IGNORE)
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "snapshot"]):
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=repo, check=True)
    return repo


def prefect(*args: str, cwd: Path, env: dict[str, str], timeout: float = 120) -> str:
    """Run the prefect CLI against the test server; fail with its output if it fails."""
    done = subprocess.run([PREFECT, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"prefect {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def test_ad_hoc_deployment_runs_a_week_on_a_process_worker(prefect_server: None, tmp_path: Path) -> None:
    api_url = str(PREFECT_API_URL.value())
    env = {**os.environ, "PREFECT_API_URL": api_url, "PREFECT_HOME": str(tmp_path / "prefect-home")}
    source = write_source(tmp_path / "export.parquet", edge_case_rows())
    run_env = {"VOC_SOURCE_PATH": str(source), "VOC_HOME": str(tmp_path / "voc-home")}
    repo = code_repository(tmp_path)

    with get_client(sync_client=True) as client:
        from prefect.client.schemas.actions import VariableCreate, WorkPoolCreate

        client.create_work_pool(WorkPoolCreate(name="voc-test-pool", type="process"))
        for name, value in {
            "voc_weekly_work_pool": "voc-test-pool",
            "voc_weekly_repository": str(repo),
            "voc_weekly_branch": "main",
            "voc_weekly_env": run_env,
        }.items():
            client.create_variable(VariableCreate(name=name, value=value))  # type: ignore[arg-type]

    prefect("--no-prompt", "deploy", "--all", cwd=repo, env=env)
    started = prefect(
        "deployment", "run", "voc-weekly-report/ad-hoc",
        "--param", "week_start=2026-11-18", "--param", "dry_run=true",
        cwd=repo, env=env,
    )  # fmt: skip
    prefect("worker", "start", "--pool", "voc-test-pool", "--run-once", cwd=tmp_path, env=env, timeout=240)

    with get_client(sync_client=True) as client:
        weekly = client.read_deployment_by_name("voc-weekly-report/weekly")
        ad_hoc = client.read_deployment_by_name("voc-weekly-report/ad-hoc")
        (flow_run,) = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(deployment_id=FlowRunFilterDeploymentId(any_=[ad_hoc.id]))
        )
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run.id]))
        )
    assert str(flow_run.id) in started
    assert [(s.schedule.cron, s.schedule.timezone) for s in weekly.schedules] == [  # type: ignore[union-attr]
        ("0 9 * * 1", "Asia/Seoul")
    ]
    assert ad_hoc.schedules == [] and ad_hoc.work_pool_name == "voc-test-pool"
    assert flow_run.state is not None and flow_run.state.is_completed(), flow_run.state
    assert flow_run.state.message == "week 2026-11-16: dry run"
    table: list[dict[str, Any]] = json.loads(
        next(str(a.data) for a in artifacts if a.key == "voc-weekly-categories-2026-11-16")
    )
    assert {row["category_label"]: row["severity"] for row in table}[
        "개인회원 / 계정 / 로그인 오류"
    ] == "CRITICAL"
    assert (tmp_path / "voc-home" / "out" / "2026-11-16" / "01-summary.json").exists()
