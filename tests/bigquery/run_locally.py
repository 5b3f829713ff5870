"""`make bq-emulator-run`: the prod target end to end on a local bqemulator, as a dry run.

Starts the emulator, loads four weeks of demo data into a day-partitioned source table, then runs
`voc-weekly run --dry-run` with VOC_DBT_TARGET=prod pointed at it (BIGQUERY_EMULATOR_HOST) and stops
the emulator. Payloads land in .voc/bq-emulator/out.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from flows.demo.generator import write_demo_data
from tests.bigquery.conftest import NEXT_WEEK, REPORT_WEEK, SLICE_WEEKS
from tests.bigquery.emulators import PROJECT, ROOT, SOURCE_TABLE, create_source_table, load_source, running


def main() -> int:
    """Run the dry run on the emulator; return its exit code."""
    work = ROOT / ".voc" / "bq-emulator"
    work.mkdir(parents=True, exist_ok=True)
    source = work / "zendesk_voc_classified.parquet"
    write_demo_data(source, NEXT_WEEK, weeks=SLICE_WEEKS)
    with running("bqemulator", work / "bqemulator.log") as emulator:
        create_source_table(emulator)
        print(f"bqemulator at {emulator.url}: loaded {load_source(emulator, source)} tickets")
        env = {
            **os.environ,
            "BIGQUERY_EMULATOR_HOST": emulator.url,
            "VOC_DBT_TARGET": "prod",
            "VOC_BQ_PROJECT": PROJECT,
            "VOC_BQ_DATASET": "voc_weekly",
            "VOC_BQ_SOURCE_TABLE": SOURCE_TABLE,
            "VOC_BQ_AUTH_METHOD": "oauth-secrets",
            "VOC_BQ_TOKEN": "emulator",  # the emulator accepts any token
            "SLACK_BOT_TOKEN": "",
        }
        command = [str(Path(sys.executable).parent / "voc-weekly"), "run", "--dry-run", "--week"]
        command += [str(REPORT_WEEK), "--out", str(work / "out"), *sys.argv[1:]]
        return subprocess.run(command, env=env, cwd=ROOT, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
