# syntax=docker/dockerfile:1
# One image for the Python services of docker-compose.yml: the API (default command), the workers
# (`python -m workers`) and the migrate job (`python -m lapor.migrate && python -m lapor.deploy`).
ARG PYTHON_IMAGE=python:3.11-slim-bookworm
ARG NODE_IMAGE=node:22-bookworm-slim

# -- builder: the locked runtime dependencies in a virtualenv ------------------------------------------------------
FROM ${PYTHON_IMAGE} AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /build
COPY requirements.lock deploy/runtime_requirements.py ./
# requirements.lock also pins the dev group (pytest, mypy, ruff...); keep the runtime part with its hashes, so the
# image installs exactly the locked versions. --require-hashes also fails if a runtime dependency were missing.
RUN python runtime_requirements.py requirements.lock > requirements.runtime.txt \
    && python -m venv /opt/venv \
    && /opt/venv/bin/pip install --require-hashes -r requirements.runtime.txt

# -- assets: the npm runtime dependencies the citizen page serves itself (Leaflet for the map), from the lock ----------
FROM ${NODE_IMAGE} AS assets
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# -- runtime ---------------------------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE}
# Debian's tzdata: the working-day calendar needs Asia/Pontianak and the lock has no tzdata wheel.
RUN apt-get update \
    && apt-get install -y --no-install-recommends tzdata \
    && rm -rf /var/lib/apt/lists/* \
    && python -c "from zoneinfo import ZoneInfo; ZoneInfo('Asia/Pontianak')"
RUN groupadd --system --gid 10001 lapor \
    && useradd --system --uid 10001 --gid lapor --home-dir /app --no-create-home --shell /usr/sbin/nologin lapor \
    && mkdir /data && chown lapor:lapor /data
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    LAPOR_DATA_DIR=/data
COPY --from=builder /opt/venv /opt/venv
WORKDIR /app
# Only what runs; the code stays owned by root, so the service user cannot change it.
COPY alembic.ini ./
COPY migrations/ migrations/
COPY lapor/ lapor/
COPY api/ api/
COPY workers/ workers/
COPY bpmn/ bpmn/
# Leaflet's built files only, where the app serves them from in a checkout (api/web/render.py, LEAFLET).
COPY --from=assets /build/node_modules/leaflet/dist/ node_modules/leaflet/dist/
USER lapor
EXPOSE 8000 9101
# The API's health by default; docker-compose.yml points the workers' check at their own /health.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(os.environ.get('HEALTHCHECK_URL', 'http://127.0.0.1:8000/health'), timeout=4)"]
# --no-proxy-headers: the API reads X-Forwarded-For itself, from LAPOR_TRUSTED_PROXIES only (api/deps.py).
CMD ["uvicorn", "--factory", "api.main:create_app", "--host", "0.0.0.0", "--port", "8000", "--no-proxy-headers"]
