"""The dry-run folder: the run writes only into a folder it owns and deletes only files it wrote.

A folder is the run's own when it is new or empty, when it is the default `<VOC_HOME>/out/<week>/`,
or when an earlier run left its record there (`.voc-weekly-files`, one file name per line). A rerun
replaces exactly the files that record lists; anything else in the folder is never touched.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, ClassVar

from flows.errors import OutDirError
from flows.report import CategoryChange
from flows.settings import VocSettings
from flows.slack.messages import SlackMessage

RECORD = ".voc-weekly-files"
SUMMARY_TS_PLACEHOLDER = "<ts of the summary message>"
# What a run writes, never a path: `NN-<key>.json` (three digits and more past 99 messages), report.json.
_OWN_NAME = re.compile(r"\d{2,}-[\w-]+\.json|report\.json")


def check_out_folder(folder: Path, is_default: bool, what: str = "the dry-run payloads") -> None:
    """Refuse (in one line) a folder the run may not write into, before any work is done."""
    where = f"--out {folder}"
    if folder.exists() and not folder.is_dir():
        raise OutDirError(f"{where}: is a file; give a folder for {what}")
    if is_default or not folder.exists() or (folder / RECORD).is_file():
        return
    if any(folder.iterdir()):
        raise OutDirError(
            f"{where}: the folder has files this tool did not write; give a new or empty folder "
            "(nothing was changed)"
        )


def replace_files(folder: Path, files: dict[str, str], is_default: bool) -> None:
    """Write `files` (name → text), first deleting what the previous run into `folder` wrote."""
    check_out_folder(folder, is_default)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for name in _written_before(folder, is_default):
            (folder / name).unlink(missing_ok=True)  # a previous run's messages must not mix with these
        for name, text in files.items():
            (folder / name).write_text(text, encoding="utf-8")
        (folder / RECORD).write_text("".join(f"{name}\n" for name in files), encoding="utf-8")
    except OSError as exc:
        raise OutDirError(f"--out {folder}: cannot write there ({exc.strerror or exc})") from None


def _written_before(folder: Path, is_default: bool) -> set[str]:
    """The files an earlier run wrote here, by its record (the default folder is wholly the run's)."""
    record = folder / RECORD
    listed = record.read_text(encoding="utf-8").splitlines() if record.is_file() else []
    names = {name for name in listed if _OWN_NAME.fullmatch(name)}
    if is_default:  # folders written before the record existed
        names |= {path.name for path in folder.iterdir() if _OWN_NAME.fullmatch(path.name)}
    return names


@dataclass(frozen=True)
class DryRunFolder:
    """Where a dry run writes: exactly the chat.postMessage arguments of each message, and report.json."""

    path: Path
    is_default: bool  # `<VOC_HOME>/out/<week>/`, wholly the run's own
    channel: str
    thread_ts: str | None
    is_dry_run: ClassVar[bool] = True

    @classmethod
    def for_week(
        cls, settings: VocSettings, week: date, out_dir: str | None, channel: str, thread_ts: str | None
    ) -> DryRunFolder:
        """--out, or the default folder of the week; a folder with someone else's files is refused now."""
        path, is_default = (
            (Path(out_dir), False) if out_dir else (settings.home / "out" / week.isoformat(), True)
        )
        check_out_folder(path, is_default)
        return cls(path, is_default, channel, thread_ts)

    @contextmanager
    def reserved(self) -> Iterator[None]:
        """Nothing to hold: a dry run shares nothing with other runs."""
        yield

    def say_status(self, status_ts: str | None, *, posted: int, quiet: bool) -> None:
        """A dry run edits nothing in Slack."""

    def delivered(self, force: bool) -> None:
        """A dry run always writes the whole report."""
        return None

    def unsent(self, categories: list[CategoryChange], force: bool) -> list[CategoryChange]:
        """Every category gets its reply in a dry run."""
        return categories

    def send(self, messages: list[SlackMessage], summary: dict[str, Any], force: bool) -> tuple[int, int]:
        """Write one JSON file per message plus report.json; nothing is posted, so (0, 0)."""
        reply_thread = self.thread_ts or SUMMARY_TS_PLACEHOLDER
        files = {
            f"{number:02d}-{message.key}.json": json.dumps(
                message.post_args(self.channel, self.thread_ts if number == 1 else reply_thread),
                ensure_ascii=False,
                indent=2,
            )
            for number, message in enumerate(messages, start=1)
        }
        files["report.json"] = json.dumps(summary, ensure_ascii=False, indent=2)
        replace_files(self.path, files, self.is_default)
        return 0, 0
