"""The local loop: `voc-weekly run` on the demo data, cold and warm, against a plain `dbt build`.

"cold" is a first run: a fresh VOC_HOME (the demo export is written), a fresh PREFECT_HOME (the
temporary Prefect server creates its database) and no dbt partial-parse file. "warm" is the run
after it with nothing changed. Both start Prefect's temporary server (PREFECT_API_URL is unset),
as a user's first `voc-weekly run` does; a third run sets VOC_DBT_NODE_TASKS=false. The plain
build is `voc-weekly dbt build` with the vars and selection the flow passes, on the warm warehouse:
the dbt work without Prefect.

Usage: python -m benchmarks.bench_local_loop [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from flows.weeks import resolve_report_week

ROOT = Path(__file__).resolve().parent.parent
VOC_WEEKLY = Path(sys.executable).parent / "voc-weekly"
PARTIAL_PARSE = ROOT / "dbt_project" / "target" / "partial_parse.msgpack"


def timed(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Run a command to completion; return its (wall, CPU) seconds, CPU counting its children."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(args, env=env, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args[1:])} failed (exit {done.returncode}): {done.stderr[-2000:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def one_round(folder: Path) -> dict[str, tuple[float, float]]:
    """A cold run, a warm run and a plain dbt build, each in the homes of this round."""
    env = {
        **os.environ,
        "VOC_HOME": str(folder / "voc"),
        "PREFECT_HOME": str(folder / "prefect"),
    }
    for name in ("PREFECT_API_URL", "SLACK_BOT_TOKEN", "LAAS_API_KEY", "VOC_DBT_TARGET", "VOC_DUCKDB_PATH"):
        env.pop(name, None)
    dbt_vars = json.dumps({"report_week": resolve_report_week(None).isoformat()})
    PARTIAL_PARSE.unlink(missing_ok=True)
    run = [str(VOC_WEEKLY), "run", "--llm", "builtin"]
    return {
        "cold `voc-weekly run`": timed(run, env),
        "warm `voc-weekly run`": timed(run, env),
        # dbt as one step of the run instead of a Prefect task per node (the setting's only effect).
        "warm `voc-weekly run`, `VOC_DBT_NODE_TASKS=false`": timed(
            run, {**env, "VOC_DBT_NODE_TASKS": "false"}
        ),
        "plain `voc-weekly dbt build`": timed(
            [str(VOC_WEEKLY), "dbt", "build", "--vars", dbt_vars, "--exclude-resource-type", "unit_test"], env
        ),
        "`voc-weekly --help`": timed([str(VOC_WEEKLY), "--help"], env),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=3, help="rounds; the table shows the median")
    args = parser.parse_args()
    rounds = []
    for n in range(args.repeat):
        with tempfile.TemporaryDirectory() as folder:
            rounds.append(one_round(Path(folder)))
        print(f"round {n + 1} of {args.repeat} done", file=sys.stderr, flush=True)
    cores = os.cpu_count()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"machine: {platform.machine()}, {cores} cores, python {platform.python_version()}, load {load}")
    print(f"| command (median of {args.repeat}) | wall | CPU (user + sys) |")
    print("|---|---|---|")
    for label in rounds[0]:
        wall = statistics.median(r[label][0] for r in rounds)
        cpu = statistics.median(r[label][1] for r in rounds)
        print(f"| {label} | {wall:.1f} s | {cpu:.1f} s |")


if __name__ == "__main__":
    main()
