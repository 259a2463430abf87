# blogsvc image. Stages: docs-assets (the npm files /docs and /redoc serve), build (a venv with the
# dependencies and the package, compiled modules stripped, no Cython sources or stubs), and the final
# one, which gets only that venv and tini: no pip, npm, compiler, tests or dev packages. Its size,
# and what each part costs: docs/operations.md, "The image".
#
# The base image is an argument so builds without registry access can pass a local one. Build with
# --format docker under podman, or the HEALTHCHECK is dropped (OCI images have no such field):
#   podman build --format docker -t blogsvc .
#   podman build --format docker --build-arg BASE_IMAGE=localhost/python:bookworm \
#       -v /etc/ssl/certs/ca-certificates.crt:/etc/ssl/certs/host-ca.crt:ro \
#       --build-arg PIP_CERT=/etc/ssl/certs/host-ca.crt -t blogsvc .
# All stages must use the same base: the venv points at the base image's python3.
# `make image-test` builds it, runs it against the local MariaDB and smoke-tests it.
ARG BASE_IMAGE=python:3.11-slim-bookworm

# The npm files /docs and /redoc serve (pinned with their sha512 in blogsvc/docs_assets/packages.toml):
# hatch_build.py fetches them with npm, here, in a stage of their own, so the build stage and the
# final image never see npm, and the stage stays cached until the pins change.
FROM ${BASE_IMAGE} AS docs-assets
# A CA bundle for pip and npm behind a TLS-intercepting proxy (mounted at build time, never baked in).
ARG PIP_CERT=""
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends npm \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY hatch_build.py ./
COPY blogsvc/docs_assets/packages.toml ./blogsvc/docs_assets/
RUN if [ -n "$PIP_CERT" ]; then export NODE_EXTRA_CA_CERTS="$PIP_CERT"; fi \
    && HOME=/tmp python3 hatch_build.py

FROM ${BASE_IMAGE} AS build
ARG PIP_CERT=""
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
# tini from Debian, copied alone into the final stage (see ENTRYPOINT there); binutils for strip,
# which stays in this stage. Not pinned: the versions follow the base image's Debian release, which
# is itself an argument.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends tini binutils \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Dependencies first, from pyproject.toml alone, so a change to the code reuses this layer. The
# optional asyncmy driver comes too, so that BLOGSVC_DB_DRIVER=asyncmy works in the image. Then
# what only a compiler or a type checker reads leaves: the Cython sources wheels ship beside their
# compiled modules (asyncmy's .c files alone are 13 MB) and .pyi stubs; and strip takes the symbol
# tables out of the compiled modules (44 MB -> 6 MB; the dynamic symbols Python loads them by stay).
# pip's bytecode stays: the root filesystem is read-only, so without it every process would
# compile each module it imports again at each start.
COPY pyproject.toml ./
RUN python3 -m venv /opt/blogsvc \
    && python3 -c 'import tomllib; p = tomllib.load(open("pyproject.toml", "rb"))["project"]; \
        print(*p["dependencies"], *p["optional-dependencies"]["asyncmy"], sep="\n")' > /tmp/requirements.txt \
    && /opt/blogsvc/bin/pip install ${PIP_CERT:+--cert "$PIP_CERT"} -r /tmp/requirements.txt \
    && find /opt/blogsvc \( -name '*.c' -o -name '*.pyx' -o -name '*.pxd' -o -name '*.pyi' \) -delete \
    && find /opt/blogsvc -name '*.so' -exec strip --strip-unneeded {} +
COPY README.md hatch_build.py ./
COPY blogsvc ./blogsvc
COPY sql ./sql
COPY migrations ./migrations
# Already fetched and checked: the build hook finds them current and fetches nothing.
COPY --from=docs-assets /src/blogsvc/docs_assets/dist ./blogsvc/docs_assets/dist
# The project itself (a regular, non-editable install: sql/ and migrations/ go inside the
# package), then pip and setuptools leave the venv: nothing installs at run time.
RUN /opt/blogsvc/bin/pip install ${PIP_CERT:+--cert "$PIP_CERT"} --no-deps . \
    && /opt/blogsvc/bin/pip uninstall -y pip setuptools

FROM ${BASE_IMAGE}
LABEL org.opencontainers.image.title="blogsvc" \
      org.opencontainers.image.description="A blog microservice: users and their articles over HTTP, on MariaDB/MySQL."
# PROMETHEUS_MULTIPROC_DIR: the workers share metrics through files there; /tmp is the one
# writable place when the root filesystem is read-only (an emptyDir in deploy/k8s).
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/blogsvc/bin:$PATH \
    BLOGSVC_HOST=0.0.0.0 \
    BLOGSVC_PORT=8000 \
    PROMETHEUS_MULTIPROC_DIR=/tmp/blogsvc-metrics
COPY --from=build /usr/bin/tini /usr/bin/tini
COPY --from=build /opt/blogsvc /opt/blogsvc
# A numeric user (no passwd entry needed), so Kubernetes' runAsNonRoot can check it.
USER 10001:10001
EXPOSE 8000
STOPSIGNAL SIGTERM
# Liveness only (the process serves); readiness, which needs the database, is /readyz. The port
# comes from the environment, so a container run with another BLOGSVC_PORT stays healthy.
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
    CMD ["python3", "-c", "import os, urllib.request as r; r.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('BLOGSVC_PORT', '8000'), timeout=2)"]
# PID 1 is tini, not uvicorn. uvicorn would handle SIGTERM as PID 1 (it installs its own
# handler; the kernel only drops signals PID 1 has no handler for), but the same image also runs
# `blogsvc migrate` (a Job, a one-off container), which installs no handler and so would ignore
# SIGTERM as PID 1 and wait for SIGKILL; and PID 1 must reap orphans (whatever a worker, an exec
# probe or a hook leaves behind). tini forwards SIGTERM to its child, reaps the rest and exits with
# the child's status, so `podman stop` ends with 0 after a clean drain.
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["blogsvc", "serve"]
