# One image for the controller, the webhook service and the model downloader:
#   python -m controller | python -m webhooks | python -m downloader
# No Docker engine runs in this project's CI; the same entrypoints are tested as processes.

# Pinned release of the base image (the digest is pinned by the release pipeline).
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
RUN python -m venv /opt/aim-engine
COPY pyproject.toml constraints.txt README.md ./
COPY api ./api
COPY certs ./certs
COPY controller ./controller
COPY downloader ./downloader
COPY webhooks ./webhooks
# Runtime dependencies only, at the versions CI tested (constraints.txt); no dev extras.
RUN /opt/aim-engine/bin/pip install --upgrade pip==25.3 \
 && /opt/aim-engine/bin/pip install -c constraints.txt .

FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="aim-engine-python" \
      org.opencontainers.image.description="AIM Engine: Kubernetes control plane for LLM inference on AMD GPUs" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=build /opt/aim-engine /opt/aim-engine
ENV PATH=/opt/aim-engine/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp
# The chart runs it as 65532 with a read-only root filesystem; /tmp is an emptyDir there.
USER 65532:65532
ENTRYPOINT ["python", "-m"]
CMD ["controller"]
