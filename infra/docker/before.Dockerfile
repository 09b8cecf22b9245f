# syntax=docker/dockerfile:1.7
# The before layout: one image, 14 processes. Each container runs one service by name:
#
#   docker build -f infra/docker/before.Dockerfile -t refactor-lab/before .
#   docker run refactor-lab/before gateway        # or auth, token, ..., config
#
# Same recipe as after.Dockerfile (dependency-only layer, non-editable install, non-root, no
# installers in the final stage); only the layout under test differs, never the packaging.
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

FROM ${PYTHON_IMAGE} AS python-base
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH

FROM python-base AS build
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
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --no-dev --no-install-workspace --package before-layout
# before-layout reuses the jobs package's PDF renderer (which pulls in service-common) and the
# launcher's shared pieces.
COPY libs/common/src libs/common/src
COPY services/jobs/src services/jobs/src
COPY infra/launcher/src infra/launcher/src
COPY before/src before/src
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --no-dev --no-editable --package before-layout

FROM python-base AS before
RUN python -m pip uninstall --yes --quiet pip setuptools wheel \
    && groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --no-create-home --shell /usr/sbin/nologin app
COPY infra/docker/healthcheck.py /opt/healthcheck.py
COPY --from=build /opt/venv /opt/venv
WORKDIR /opt
USER 10001:10001
# Each before service listens on its own default port (gateway 8000, the others 8201..8213):
# compose passes it to the probe, e.g. `python /opt/healthcheck.py 8201`.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "/opt/healthcheck.py"]
ENTRYPOINT ["python", "-m", "before_layout.run"]
CMD ["gateway"]
