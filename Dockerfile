# The environment VOC Weekly's flow runs in on a Docker, Kubernetes or Cloud Run work pool: exactly
# the runtime lock (requirements.lock: no test or lint tool), hash-checked and installed with the
# Makefile's command. No code inside: the worker's git_clone pull step (prefect.yaml) fetches the
# code at run time, so the image only changes when the lock does.
# Build: docker build -t <registry>/voc-weekly:<tag> .   (README, "Deploy")
#
# The Slack bot's image is the target `bot`: the same environment plus the package itself (the bot
# is a long-running service, not a flow run that clones the code), running `voc-weekly bot --http`.
# Build: docker build --target bot -t <registry>/voc-weekly-bot:<tag> .   (README, "Run the bot as a service")
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

FROM build AS bot-build
COPY pyproject.toml README.md ./
COPY flows ./flows
# The package without its dependencies (the lock has them), as the Makefile's .venv target installs
# it, but not editable: the source folder stays behind in this stage.
RUN python3 -m uv pip install --quiet --python /opt/venv/bin/python --no-deps .

FROM ${PYTHON_IMAGE} AS bot
RUN useradd --create-home --uid 10001 --user-group voc
COPY --from=bot-build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 HOME=/home/voc
USER 10001:10001
WORKDIR /home/voc
# HTTP mode listens on $PORT (Cloud Run sets it), else 3000. Socket Mode instead: pass its flags,
# e.g. `docker run … <image> --health-port 8080`. Exec form: the bot is PID 1 and gets SIGTERM itself.
EXPOSE 3000
ENTRYPOINT ["voc-weekly", "bot"]
CMD ["--http"]

# The flow runs' image: the last stage, so a plain `docker build .` builds it.
FROM ${PYTHON_IMAGE} AS flow
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
