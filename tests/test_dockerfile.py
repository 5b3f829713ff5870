"""The container image's Dockerfile: lint-clean, the Makefile's locked install, a non-root final stage.

Building the image needs a Docker daemon and the base image from a registry; tests check the file.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
HADOLINT = str(Path(sys.executable).parent / "hadolint")


def dockerfile_stages() -> list[list[str]]:
    """The Dockerfile's instructions (continuation lines joined, comments dropped), split per FROM."""
    text = (REPO / "Dockerfile").read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    instructions = [i.strip() for i in "\n".join(lines).replace("\\\n", " ").splitlines() if i.strip()]
    stages: list[list[str]] = [[]]
    for instruction in instructions:
        if instruction.startswith("FROM "):
            stages.append([])
        stages[-1].append(instruction)
    return stages[1:]


def pip_sync_arguments(command: str) -> list[str]:
    """The arguments of `uv pip sync` in a shell command, the target interpreter left out."""
    words = shlex.split(re.search(r"pip sync [^&;]*", command).group(0))  # type: ignore[union-attr]
    python_at = words.index("--python")
    return words[:python_at] + words[python_at + 2 :]


def test_dockerfile_passes_hadolint() -> None:
    done = subprocess.run([HADOLINT, "Dockerfile"], cwd=REPO, capture_output=True, text=True)

    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


def test_image_installs_the_lock_with_the_makefile_command_and_flags() -> None:
    build, _ = dockerfile_stages()
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    make_install = next(line for line in makefile.splitlines() if "pip sync" in line)
    image_install = next(line for line in build if "pip sync" in line)

    assert pip_sync_arguments(image_install) == pip_sync_arguments(make_install)
    assert pip_sync_arguments(image_install) == [
        "pip", "sync", "--quiet", "--require-hashes", "requirements.lock",
    ]  # fmt: skip
    assert "COPY requirements.lock ." in build
    assert "UV_PYTHON_DOWNLOADS=never" in " ".join(build)  # as the Makefile exports it


def test_final_stage_runs_as_a_non_root_user_without_installers() -> None:
    _, final = dockerfile_stages()
    users = [line.split()[1] for line in final if line.startswith("USER ")]
    runs = " ".join(line for line in final if line.startswith("RUN "))

    assert users and users[-1].split(":")[0] not in ("0", "root")
    assert "COPY --from=build /opt/venv /opt/venv" in final
    assert not re.search(r"\b(uv|pip|gcc|build-essential)\b", runs), runs
