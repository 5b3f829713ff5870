"""The dry-run folder: the run writes only into a folder it owns and deletes only files it wrote.

A folder is the run's own when it is new or empty, when it is the default `<VOC_HOME>/out/<week>/`,
or when an earlier run left its record there (`.voc-weekly-files`, one file name per line). A rerun
replaces exactly the files that record lists; anything else in the folder is never touched.
"""

from __future__ import annotations

import re
from pathlib import Path

from flows.errors import OutDirError

RECORD = ".voc-weekly-files"
_OWN_NAME = re.compile(r"\d\d-[\w-]+\.json|report\.json")  # what a run writes; never a path


def check_out_folder(folder: Path, is_default: bool) -> None:
    """Refuse (in one line) a folder the run may not write into, before any work is done."""
    where = f"--out {folder}"
    if folder.exists() and not folder.is_dir():
        raise OutDirError(f"{where}: is a file; give a folder for the dry-run payloads")
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
