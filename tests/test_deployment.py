"""prefect.yaml deployed to a real local Prefect server and run by a real process worker, cloning the
code from a private repository on a loopback git server with the token from a real Secret block."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from prefect.blocks.system import Secret
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterFlowRunId,
    FlowRunFilter,
    FlowRunFilterDeploymentId,
)
from prefect.deployments.steps.core import StepExecutionError, run_steps
from prefect.settings import PREFECT_API_URL
from prefect.variables import Variable

from tests.servers.git import GitServer
from tests.sources import edge_case_rows, write_source

REPO = Path(__file__).resolve().parent.parent
PREFECT = str(Path(sys.executable).parent / "prefect")
COPY_IGNORE = shutil.ignore_patterns(".git", ".venv", ".voc", "target", "logs", "__pycache__", "*.duckdb")
GIT_TOKEN = "ghp_voc-weekly-test-token"
TOKEN_BLOCK = "voc-weekly-git-token"


def code_repository(tmp_path: Path) -> Path:
    """The working tree as a git repository, so the worker's git_clone pull step runs this code."""
    repo = tmp_path / "repo"
    shutil.copytree(REPO, repo, ignore=COPY_IGNORE)
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "snapshot"]):
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=repo, check=True)
    return repo


def serve_repository(repo: Path, token: str | None, tmp_path: Path) -> GitServer:
    """The repository on a loopback https git server; with a token, a private one."""
    return GitServer(repo.parent, token, tls_dir=tmp_path).start()


def git_environment(server: GitServer) -> dict[str, str]:
    """What a worker needs to reach the test server: trust its certificate, never prompt."""
    return {"GIT_SSL_CAINFO": str(server.ca_file), "GIT_TERMINAL_PROMPT": "0"}


def set_variables(values: dict[str, Any]) -> None:
    """Prefect variables as `prefect variable set --overwrite` leaves them; None unsets one."""
    for name, value in values.items():
        if value is None:
            Variable.unset(name)
        else:
            Variable.set(name, value, overwrite=True)


def pull_steps() -> list[dict[str, Any]]:
    """prefect.yaml's pull section, as a worker runs it before each flow run."""
    return yaml.safe_load((REPO / "prefect.yaml").read_text(encoding="utf-8"))["pull"]


@pytest.fixture
def code_repo(tmp_path: Path) -> Path:
    return code_repository(tmp_path)


@pytest.fixture
def private_server(code_repo: Path, tmp_path: Path) -> Iterator[GitServer]:
    server = serve_repository(code_repo, GIT_TOKEN, tmp_path)
    yield server
    server.stop()


def run_pull_steps(server: GitServer, into: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run the pull steps in a fresh folder, as a worker does; return the folder they end in."""
    for name, value in git_environment(server).items():
        monkeypatch.setenv(name, value)
    into.mkdir()
    monkeypatch.chdir(into)  # set_working_directory moves the process; this moves it back after
    asyncio.run(run_steps(pull_steps()))
    return Path.cwd()


def test_pull_steps_clone_a_private_repository_with_the_token_from_the_named_secret_block(
    prefect_server: None,
    private_server: GitServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    Secret(value=GIT_TOKEN).save(TOKEN_BLOCK, overwrite=True)
    set_variables(
        {
            "voc_weekly_repository": private_server.url("repo"),
            "voc_weekly_branch": "main",
            "voc_weekly_git_token_block": TOKEN_BLOCK,
        }
    )

    code = run_pull_steps(private_server, tmp_path / "run", monkeypatch)

    assert (code / "flows" / "flow.py").read_bytes() == (REPO / "flows" / "flow.py").read_bytes()
    assert "token" in private_server.requests and "wrong" not in private_server.requests
    assert GIT_TOKEN not in caplog.text


def test_pull_steps_without_a_token_block_clone_a_public_repository_at_a_release_tag(
    prefect_server: None, code_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    subprocess.run(["git", "tag", "v2026.11.16"], cwd=code_repo, check=True)  # what a rollback names
    public = serve_repository(code_repo, None, tmp_path)
    set_variables(
        {
            "voc_weekly_repository": public.url("repo"),
            "voc_weekly_branch": "v2026.11.16",
            "voc_weekly_git_token_block": None,
        }
    )
    try:
        code = run_pull_steps(public, tmp_path / "run", monkeypatch)
    finally:
        public.stop()

    assert (code / "flows" / "flow.py").exists()
    assert set(public.requests) == {"anonymous"}


def test_private_repository_without_the_token_block_is_refused(
    prefect_server: None, private_server: GitServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_variables(
        {
            "voc_weekly_repository": private_server.url("repo"),
            "voc_weekly_branch": "main",
            "voc_weekly_git_token_block": None,
        }
    )

    with pytest.raises(StepExecutionError, match="git_clone"):
        run_pull_steps(private_server, tmp_path / "run", monkeypatch)

    assert set(private_server.requests) == {"anonymous"}  # so the token is what opens it


def prefect(*args: str, cwd: Path, env: dict[str, str], timeout: float = 120) -> str:
    """Run the prefect CLI against the test server; its output, or fail with it if it fails."""
    done = subprocess.run([PREFECT, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"prefect {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr


def test_ad_hoc_deployment_runs_a_week_from_a_private_repository_on_a_process_worker(
    prefect_server: None, code_repo: Path, private_server: GitServer, tmp_path: Path
) -> None:
    api_url = str(PREFECT_API_URL.value())
    env = {**os.environ, "PREFECT_API_URL": api_url, "PREFECT_HOME": str(tmp_path / "prefect-home")}
    source = write_source(tmp_path / "export.parquet", edge_case_rows())
    run_env = {"VOC_SOURCE_PATH": str(source), "VOC_HOME": str(tmp_path / "voc-home")}
    image = "registry.example.com/data/voc-weekly:3f2a9c1"

    with get_client(sync_client=True) as client:
        from prefect.client.schemas.actions import WorkPoolCreate

        client.create_work_pool(WorkPoolCreate(name="voc-test-pool", type="process"))
    Secret(value=GIT_TOKEN).save(TOKEN_BLOCK, overwrite=True)
    set_variables(
        {
            "voc_weekly_work_pool": "voc-test-pool",
            "voc_weekly_repository": private_server.url("repo"),
            "voc_weekly_branch": "main",
            "voc_weekly_env": run_env,
            "voc_weekly_image": image,  # what a container pool runs; a process pool ignores it
            "voc_weekly_git_token_block": TOKEN_BLOCK,
        }
    )

    prefect("--no-prompt", "deploy", "--all", cwd=code_repo, env=env)
    started = prefect(
        "deployment", "run", "voc-weekly-report/ad-hoc",
        "--param", "week_start=2026-11-18", "--param", "dry_run=true",
        cwd=code_repo, env=env,
    )  # fmt: skip
    worker_output = prefect(
        "worker", "start", "--pool", "voc-test-pool", "--run-once",
        cwd=tmp_path, env={**env, **git_environment(private_server)}, timeout=600,
    )  # fmt: skip

    with get_client(sync_client=True) as client:
        weekly = client.read_deployment_by_name("voc-weekly-report/weekly")
        docs = client.read_deployment_by_name("voc-weekly-docs/docs")
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
    # The docs are published half an hour after the weekly run, by the same pool and environment.
    assert [(s.schedule.cron, s.schedule.timezone) for s in docs.schedules] == [  # type: ignore[union-attr]
        ("30 9 * * 1", "Asia/Seoul")
    ]
    assert docs.entrypoint == "flows/docs.py:publish_docs" and docs.work_pool_name == "voc-test-pool"
    assert docs.job_variables == ad_hoc.job_variables
    assert ad_hoc.job_variables == {"env": run_env, "image": image}
    # The deployment keeps the token's block reference, resolved by the worker, never the token.
    assert GIT_TOKEN not in json.dumps(ad_hoc.pull_steps) + worker_output
    assert "token" in private_server.requests
    assert flow_run.state is not None and flow_run.state.is_completed(), flow_run.state
    assert flow_run.state.message == "week 2026-11-16: dry run"
    table: list[dict[str, Any]] = json.loads(
        next(str(a.data) for a in artifacts if a.key == "voc-weekly-categories-2026-11-16")
    )
    assert {row["category_label"]: row["severity"] for row in table}[
        "개인회원 / 계정 / 로그인 오류"
    ] == "CRITICAL"
    assert (tmp_path / "voc-home" / "out" / "2026-11-16" / "01-summary.json").exists()
