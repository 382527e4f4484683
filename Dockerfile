# syntax=docker/dockerfile:1
# Builder: durable-rules ships only as source, so its C extension is compiled here into wheels.
FROM python:3.11-slim AS builder
RUN apt-get update \
 && apt-get install -y --no-install-recommends gcc libc6-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /build
COPY pyproject.toml README.md ./
COPY app ./app
COPY schemas ./schemas
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

# Runtime: slim, no compiler, non-root.
FROM python:3.11-slim
RUN useradd --create-home --uid 10001 livermets
WORKDIR /srv
COPY --from=builder /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
COPY rules ./rules
# The source documents stay outside the image: mount them read-only at /srv/seeds
# (docker run -v "$PWD/../shared/seeds:/srv/seeds:ro" ...); start-up checks every quote against them.
# LIVERMETS_WORKERS: worker processes (docker run -e LIVERMETS_WORKERS=2 ...), read by app.serve.
ENV LIVERMETS_RULES_DIR=/srv/rules \
    LIVERMETS_SEEDS_DIR=/srv/seeds \
    LIVERMETS_WORKERS=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
USER livermets
EXPOSE 8000
# app.serve, not `uvicorn --workers`: each worker gets its own socket and keeps TCP_NODELAY. Exec form,
# so SIGTERM reaches the launcher, which stops the workers gracefully.
CMD ["python", "-m", "app.serve", "--host", "0.0.0.0", "--port", "8000"]
