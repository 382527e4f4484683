# syntax=docker/dockerfile:1
# The base image, pinned to an exact release: the Python the project is tested with (3.11.7). A release
# process that can reach the registry should pin its digest too (python:3.11.7-slim-bookworm@sha256:...);
# no registry is reachable where this file is tested.
# Built and served the same way without Docker by tests/test_image_layout.py.
ARG PYTHON_IMAGE=python:3.11.7-slim-bookworm

# Builder: the locked, hash-checked dependencies (requirements.lock, `make lock`) and the app, in a
# virtual environment. durable-rules ships only as source, so its C extension is compiled here.
FROM ${PYTHON_IMAGE} AS builder
# The compiler of the pinned Debian release; it never reaches the runtime image.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends gcc libc6-dev \
 && rm -rf /var/lib/apt/lists/*
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
WORKDIR /build
RUN python -m venv /opt/venv
COPY requirements.lock ./
RUN /opt/venv/bin/pip install --require-hashes --no-deps -r requirements.lock
COPY pyproject.toml README.md LICENSE ./
COPY app ./app
COPY schemas ./schemas
RUN /opt/venv/bin/pip install --no-deps . && /opt/venv/bin/pip check

# Runtime: the same base, no compiler, a numeric non-root user.
FROM ${PYTHON_IMAGE}
COPY --from=builder /opt/venv /opt/venv
WORKDIR /srv
COPY rules ./rules
COPY exercises ./exercises
# The source documents are not ours to ship: without them the server starts on the rulebook's recorded
# quote check (rules/quotes-verified.json) and says so in /v1/about and its log. To check every quote at
# start-up: docker run -v "$PWD/../shared/seeds:/srv/seeds:ro" -e LIVERMETS_SEEDS_DIR=/srv/seeds ...
# LIVERMETS_WORKERS: worker processes (docker run -e LIVERMETS_WORKERS=2 ...), read by app.serve.
ENV PATH=/opt/venv/bin:$PATH \
    LIVERMETS_RULES_DIR=/srv/rules \
    LIVERMETS_EXERCISES_DIR=/srv/exercises/vignettes \
    LIVERMETS_WORKERS=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
USER 10001:10001
EXPOSE 8000
# No curl in a slim image: the interpreter asks /healthz (200 once the rulebook is loaded).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import sys, urllib.request as u; sys.exit(u.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status != 200)"]
# app.serve, not `uvicorn --workers`: each worker gets its own socket and keeps TCP_NODELAY. Exec form,
# so SIGTERM reaches the launcher, which stops the workers gracefully.
CMD ["python", "-m", "app.serve", "--host", "0.0.0.0", "--port", "8000"]
