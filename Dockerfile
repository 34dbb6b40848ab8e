# One image for the operator and for the Connect workers' init container.
# Stage 1 builds the wheel; the final stage has no compilers and runs as a non-root user.
FROM python:3.11.7-slim-bookworm AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY operator ./operator
COPY worker ./worker
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11.7-slim-bookworm
RUN useradd --uid 10001 --no-create-home --shell /usr/sbin/nologin kco
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
USER 10001
ENTRYPOINT ["python", "-m", "connect_worker"]
