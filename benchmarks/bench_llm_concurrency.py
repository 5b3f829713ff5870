"""LLM follow-up phase vs. concurrency (SPEC §12): 20 flagged categories, 2 s per LLM call.

Runs the real client (LaaS, or the `openai` SDK with `--service openai`) against the tests' loopback
server with a fixed latency, and times the analysis phase at several concurrency limits. Expected:
about ceil(20 / concurrency) x 2 s, not 40 s. Usage: python -m benchmarks.bench_llm_concurrency
"""

from __future__ import annotations

import argparse
import math
import platform
import tempfile
import time

from flows.llm.analyst import choose_analyst
from flows.settings import VocSettings
from tests.factories import change, weekly_report
from tests.llm.endpoints import SERVICES, start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--categories", type=int, default=20)
    parser.add_argument("--latency", type=float, default=2.0)
    parser.add_argument("--concurrency", default="1,4,10,20")
    parser.add_argument("--service", choices=SERVICES, default="laas")
    args = parser.parse_args()
    changes = [change(f"카테고리 {n:02d}", 20, 40 + n, "CRITICAL") for n in range(args.categories)]
    report = weekly_report(changes)
    endpoint = start(args.service)
    server = endpoint.server
    server.latency = args.latency
    print(f"machine: {platform.machine()}, python {platform.python_version()}")
    phase = f"analysis phase ({args.categories} categories, {args.latency:g} s each)"
    print(f"| concurrency | {phase} | expected |")
    print("|---|---|---|")
    try:
        for limit in (int(c) for c in args.concurrency.split(",")):
            with tempfile.TemporaryDirectory() as folder:
                settings = VocSettings(
                    _env_file=None,
                    VOC_HOME=folder,
                    VOC_LLM_CONCURRENCY=limit,
                    **endpoint.env(),
                )
                started = time.perf_counter()
                follow_ups = choose_analyst(settings).write(report, list(report.follow_ups))
                elapsed = time.perf_counter() - started
            assert all(f.origin == args.service for f in follow_ups), "every analysis should succeed"
            expected = math.ceil(args.categories / limit) * args.latency
            print(f"| {limit} | {elapsed:.1f} s | {expected:.0f} s |", flush=True)
    finally:
        server.stop()


if __name__ == "__main__":
    main()
