# syntax=docker/dockerfile:1
# One image for every process of the service (API, both worker pools, beat, Flower); the
# command picks which. Build:
#   docker build -t tts-service .
#   docker build -t tts-service --build-arg PIPER_VOICES="en_US-lessac-medium de_DE-thorsten-medium" .
#   docker build -t tts-service:gpu --build-arg GPU=1 --build-arg KOKORO_VOICES="af_heart" .
# Runs as UID/GID 10001 and writes only under /data (DATA_DIR, TEMP_DIR), /opt/piper-voices
# (PIPER_VOICE_DIR), /opt/hf-models (HF_HUB_CACHE) and /tmp, so it runs with a read-only root
# filesystem.

# Both stages from one base, so the virtualenv's interpreter is the same in each.
ARG BASE_IMAGE=python:3.11-slim-bookworm

FROM ${BASE_IMAGE} AS builder
# A compiler for any requirement that ships no wheel for this platform; it stays in this stage.
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN python -m venv /opt/venv
COPY requirements.txt /tmp/requirements.txt
RUN /opt/venv/bin/pip install -r /tmp/requirements.txt
# The GPU variant: ONNX Runtime's CUDA build, with the CUDA and cuDNN libraries it needs from
# PyPI (the host brings only the driver, through the NVIDIA container runtime). Local engines
# then run on the GPU under LOCAL_DEVICE=auto, and on the CPU where no GPU is visible.
ARG GPU=0
RUN if [ "$GPU" = "1" ]; then \
        /opt/venv/bin/pip uninstall -y onnxruntime \
        && /opt/venv/bin/pip install "onnxruntime-gpu[cuda,cudnn]==1.31.1"; \
    fi

FROM ${BASE_IMAGE} AS runtime
ARG BASE_IMAGE
ARG VERSION=dev
ARG REVISION=unknown
LABEL org.opencontainers.image.title="tts-service" \
      org.opencontainers.image.description="Text-to-speech jobs: FastAPI, Celery workers on Redis, Piper and cloud voices" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.base.name="${BASE_IMAGE}"
# PYTHONDONTWRITEBYTECODE: the root filesystem may be read-only; the code is compiled below
# instead. HOME=/tmp: a library that keeps a cache in ~ writes where writing is allowed.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH \
    VIRTUAL_ENV=/opt/venv \
    HOME=/tmp \
    DATA_DIR=/data \
    TEMP_DIR=/data/temp \
    PIPER_VOICE_DIR=/opt/piper-voices \
    HF_HUB_CACHE=/opt/hf-models
RUN groupadd --system --gid 10001 tts \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /tmp \
       --shell /usr/sbin/nologin tts \
    && mkdir -p /data/temp /opt/piper-voices /opt/hf-models \
    && chown -R 10001:10001 /data /opt/piper-voices /opt/hf-models
COPY --from=builder /opt/venv /opt/venv
WORKDIR /app
# .dockerignore keeps .env, data/ and temp/ out: secrets and stored data never enter the image.
# The code belongs to root: the service can read it, never change it.
COPY . .
RUN python -m compileall -q /app
USER 10001:10001

# Catalogue voices baked in (a space-separated list of keys; none by default), with the
# catalogue's voices.json beside them. Loopback settings here: fetching needs no secret.
ARG PIPER_VOICES=""
RUN if [ -n "$PIPER_VOICES" ]; then \
        API_HOST=127.0.0.1 python -m scripts.fetch_voices $PIPER_VOICES; \
    fi
# Kokoro's model (KOKORO_VARIANT) and these voices baked into the Hub cache (none by default):
# such an image serves them with HF_HUB_OFFLINE=1.
ARG KOKORO_VOICES=""
RUN if [ -n "$KOKORO_VOICES" ]; then \
        API_HOST=127.0.0.1 python -m scripts.fetch_voices --kokoro kokoro $KOKORO_VOICES; \
    fi

# A container listens on every interface, so the service refuses a placeholder or short
# SECRET_KEY here (config.py). FORWARDED_ALLOW_IPS: the proxies whose X-Forwarded-For is believed.
ENV API_HOST=0.0.0.0 API_PORT=8000
EXPOSE 8000
# The API's liveness (GET /live: the process answers), without curl: the image has Python.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/live' % os.environ.get('API_PORT', '8000'), timeout=4)"
CMD ["python", "-m", "scripts.api"]
