# syntax=docker/dockerfile:1
# One image for the operator and for the Connect workers' init container:
# - by default it runs the operator, `python -m connect_operator` (kopf, embedded, with its liveness
#   endpoint on :8080 and Prometheus metrics on :9090; settings from KCO_* variables, see settings.py);
# - the workers' init container runs `python -m connect_worker init ...` (the operator's Deployment sets
#   that command: connect_operator.render.deployment).
# Stage 1 fetches the dependencies pinned by hash in requirements.lock (`make lock` refreshes it), so two
# builds of one commit install the same files, then builds the project's own wheel; the final stage
# installs only those wheels (no network, no compiler, no build tools) and runs as a non-root user on a
# read-only root filesystem (mount an emptyDir at /tmp: the Kubernetes client caches API discovery there).
# PYTHON_IMAGE: any Debian-based Python with pip on PATH as `python`/`pip` (the devkit builds one here).
ARG PYTHON_IMAGE=python:3.11.7-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
# The lock alone first: its layer is reused until the lock changes, whatever the sources do.
COPY requirements.lock ./
RUN pip wheel --require-hashes --no-deps --wheel-dir /wheels -r requirements.lock \
    && cp requirements.lock /wheels/
COPY pyproject.toml README.md ./
COPY operator ./operator
COPY worker ./worker
RUN pip wheel --no-deps --wheel-dir /wheels .

FROM ${PYTHON_IMAGE}
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
RUN groupadd --gid 10001 kco \
    && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /tmp --shell /usr/sbin/nologin kco
# The wheels are bind-mounted from the build stage, so they never become a layer of this image.
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    pip install --no-index --find-links /wheels --require-hashes -r /wheels/requirements.lock \
    && pip install --no-index --find-links /wheels --no-deps kafka-connect-operator \
    && pip uninstall --yes setuptools wheel
USER 10001:10001
EXPOSE 8080 9090
CMD ["python", "-m", "connect_operator"]
