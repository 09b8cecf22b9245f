# syntax=docker/dockerfile:1.7
# Images of the after layout: one target per process, built from the repository root.
#
#   docker build -f infra/docker/after.Dockerfile --target core-api    -t refactor-lab/core-api .
#   targets: identity, user, jobs, core-api, jobs-worker, migrate, standins
#
# Layers, from the least to the most often changed:
#   python-base  pinned interpreter, nothing else
#   workspace    uv plus every workspace pyproject.toml (uv needs all members to resolve)
#   build-<svc>  1. third-party dependencies only (`uv sync --no-install-workspace`): cached
#                   until a pyproject.toml or uv.lock changes
#                2. the sources, installed non-editable into /opt/venv
#   <svc>        runtime: /opt/venv copied onto the bare interpreter, a non-root user, no uv,
#                no pip, no compiler
#
# uv.lock is not committed, so `uv sync --frozen` is not possible: `uv.lock*` copies it when a
# local one exists and uv resolves from the == pins of the pyproject files otherwise.
# Pin the base by digest for reproducible builds: `docker buildx imagetools inspect <image>`,
# then build with --build-arg PYTHON_IMAGE=python:3.11.14-slim-bookworm@sha256:<digest>.
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

FROM ${PYTHON_IMAGE} AS python-base
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH

FROM python-base AS workspace
ARG UV_VERSION=0.13.9
RUN pip install --no-cache-dir "uv==${UV_VERSION}"
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/opt/venv
WORKDIR /src
COPY pyproject.toml uv.lock* ./
COPY libs/common/pyproject.toml libs/common/
COPY services/identity/pyproject.toml services/identity/
COPY services/user/pyproject.toml services/user/
COPY services/jobs/pyproject.toml services/jobs/
COPY services/core_api/pyproject.toml services/core_api/
COPY before/pyproject.toml before/
COPY infra/launcher/pyproject.toml infra/launcher/
COPY bench/pyproject.toml bench/

# One build stage per distribution: BuildKit builds only the stages a target needs.
FROM workspace AS build-identity
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --no-dev --no-install-workspace --package identity-service
COPY libs/common/src libs/common/src
COPY services/identity/src services/identity/src
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --no-dev --no-editable --package identity-service

FROM workspace AS build-user
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --no-dev --no-install-workspace --package user-service
COPY libs/common/src libs/common/src
COPY services/user/src services/user/src
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --no-dev --no-editable --package user-service

FROM workspace AS build-jobs
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --no-dev --no-install-workspace --package jobs-service
COPY libs/common/src libs/common/src
COPY services/jobs/src services/jobs/src
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --no-dev --no-editable --package jobs-service

FROM workspace AS build-core-api
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --no-dev --no-install-workspace --package core-api
COPY libs/common/src libs/common/src
COPY services/core_api/src services/core_api/src
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --no-dev --no-editable --package core-api

# The migration runner imports every service that owns a schema (their Alembic revisions ship
# inside each package).
FROM workspace AS build-migrate
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --no-dev --no-install-workspace \
        --package identity-service --package user-service --package jobs-service
COPY libs/common/src libs/common/src
COPY services/identity/src services/identity/src
COPY services/user/src services/user/src
COPY services/jobs/src services/jobs/src
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --no-dev --no-editable \
        --package identity-service --package user-service --package jobs-service

FROM workspace AS build-standins
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --no-dev --no-install-workspace --package stack-launcher
COPY infra/launcher/src infra/launcher/src
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --no-dev --no-editable --package stack-launcher

# Shared runtime: the interpreter without its own installers, a fixed non-root uid/gid (numeric,
# so Kubernetes' runAsNonRoot can verify it) and the probe script.
# /run/prometheus: the HTTP services' PROMETHEUS_MULTIPROC_DIR (set in their targets), where
# every gunicorn worker writes its metrics and /metrics adds them up. Owned by the app user for a
# writable container; under a read-only root file system mount a tmpfs there (compose: tmpfs,
# k8s: a Memory emptyDir, docker run: --tmpfs /run/prometheus).
FROM python-base AS runtime
RUN python -m pip uninstall --yes --quiet pip setuptools wheel \
    && groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --no-create-home --shell /usr/sbin/nologin app \
    && mkdir /run/prometheus && chown 10001:10001 /run/prometheus
COPY infra/docker/healthcheck.py /opt/healthcheck.py
WORKDIR /opt

FROM runtime AS identity
COPY --from=build-identity /opt/venv /opt/venv
ENV PORT=8101 WEB_CONCURRENCY=2 PROMETHEUS_MULTIPROC_DIR=/run/prometheus
EXPOSE 8101
USER 10001:10001
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "/opt/healthcheck.py"]
CMD ["gunicorn", "--config", "python:service_common.gunicorn_conf", "identity_service.main:app"]

FROM runtime AS user
COPY --from=build-user /opt/venv /opt/venv
ENV PORT=8102 WEB_CONCURRENCY=2 PROMETHEUS_MULTIPROC_DIR=/run/prometheus
EXPOSE 8102
USER 10001:10001
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "/opt/healthcheck.py"]
CMD ["gunicorn", "--config", "python:service_common.gunicorn_conf", "user_service.main:app"]

FROM runtime AS jobs
COPY --from=build-jobs /opt/venv /opt/venv
ENV PORT=8103 WEB_CONCURRENCY=2 PROMETHEUS_MULTIPROC_DIR=/run/prometheus
EXPOSE 8103
USER 10001:10001
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "/opt/healthcheck.py"]
CMD ["gunicorn", "--config", "python:service_common.gunicorn_conf", "jobs_service.main:app"]

FROM runtime AS core-api
COPY --from=build-core-api /opt/venv /opt/venv
ENV PORT=8000 WEB_CONCURRENCY=2 PROMETHEUS_MULTIPROC_DIR=/run/prometheus
EXPOSE 8000
USER 10001:10001
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "/opt/healthcheck.py"]
CMD ["gunicorn", "--config", "python:service_common.gunicorn_conf", "core_api.main:app"]

# Same packages as `jobs`, a different process: it serves no HTTP, so its health is a Celery
# ping to itself (shell form: $HOSTNAME must expand). PID 1 is celery itself (exec form CMD), so
# SIGTERM starts a warm shutdown that lets running tasks finish.
FROM runtime AS jobs-worker
COPY --from=build-jobs /opt/venv /opt/venv
USER 10001:10001
HEALTHCHECK --interval=30s --timeout=15s --start-period=30s --retries=3 \
    CMD celery -A jobs_service.worker inspect ping --destination "celery@$HOSTNAME" --timeout 10 || exit 1
CMD ["celery", "-A", "jobs_service.worker", "worker", "--loglevel=INFO", "--concurrency=4"]

# One-shot: upgrades every schema to head and exits; nothing to probe.
FROM runtime AS migrate
COPY --from=build-migrate /opt/venv /opt/venv
USER 10001:10001
HEALTHCHECK NONE
CMD ["python", "-m", "service_common.migrate", "identity_service", "user_service", "jobs_service"]

# The SMTP sink and the webhook receiver (third-party stand-ins); compose passes the command
# and PORT. The SMTP sink speaks no HTTP, so the probe only opens a TCP connection.
FROM runtime AS standins
COPY --from=build-standins /opt/venv /opt/venv
# /data holds the delivery records; a named volume mounted there inherits this ownership.
RUN mkdir /data && chown 10001:10001 /data
ENV PORT=8025 HEALTHCHECK_PATH=tcp
USER 10001:10001
HEALTHCHECK --interval=10s --timeout=5s --start-period=10s --retries=3 \
    CMD ["python", "/opt/healthcheck.py"]
CMD ["python", "-m", "stack_launcher.smtp_sink", "--port", "8025"]
