# The environment VOC Weekly's flow runs in on a Docker, Kubernetes or Cloud Run work pool: exactly
# the runtime lock (requirements.lock, no test or lint tool), hash-checked and installed with the
# Makefile's command. No code inside: the worker's git_clone pull step (prefect.yaml) fetches the
# code at run time, so the image only changes when the lock does.
# Build: docker build -t <registry>/voc-weekly:<tag> .   (README, "Deploy")
# Stages: `build` makes /opt/venv; `runtime` is the image (the last stage, what a plain build makes).
# Another image of the same environment starts `FROM runtime AS <name>` before it and is built
# with --target <name>.
ARG PYTHON_IMAGE=python:3.11-slim

FROM ${PYTHON_IMAGE} AS build
ARG UV_VERSION=0.13.9
ENV UV_PYTHON_DOWNLOADS=never UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python3 -m pip install --no-cache-dir "uv==${UV_VERSION}"
WORKDIR /build
COPY requirements.lock .
# The Makefile's .venv commands, into /opt/venv, with the runtime lock instead of the development one.
RUN python3 -m uv venv --quiet --python "$(command -v python3)" /opt/venv \
 && python3 -m uv pip sync --quiet --python /opt/venv/bin/python --require-hashes requirements.lock

FROM ${PYTHON_IMAGE} AS runtime
# git is a run-time need, not a build tool: the pull step clones the repository. Unpinned so a
# rebuild picks up Debian's security fixes.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends git \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --create-home --uid 10001 --user-group voc
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 HOME=/home/voc
# Numeric, so Kubernetes' runAsNonRoot can verify it.
USER 10001:10001
# Flow runs clone into and build dbt under the working directory: the non-root user owns it.
WORKDIR /home/voc
