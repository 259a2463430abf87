# blogsvc image: dependencies are built in one stage, the final stage has only the installed venv.
# The base image is an argument so builds without registry access can pass a local one:
#   podman build --build-arg BASE_IMAGE=localhost/python:bookworm -t blogsvc .
ARG BASE_IMAGE=python:3.11-slim-bookworm

FROM ${BASE_IMAGE} AS build
# A CA bundle for pip behind a TLS-intercepting proxy (mounted at build time, never baked in).
ARG PIP_CERT=""
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY blogsvc ./blogsvc
COPY sql ./sql
COPY migrations ./migrations
RUN python3 -m venv /opt/blogsvc \
    && /opt/blogsvc/bin/pip install ${PIP_CERT:+--cert "$PIP_CERT"} .

FROM ${BASE_IMAGE}
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/blogsvc/bin:$PATH \
    BLOGSVC_HOST=0.0.0.0 \
    BLOGSVC_PORT=8000
COPY --from=build /opt/blogsvc /opt/blogsvc
USER 10001:10001
EXPOSE 8000
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s \
    CMD ["python3", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"]
CMD ["blogsvc", "serve"]
