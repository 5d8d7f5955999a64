# One image for the controller, the webhook service, the model downloader and the accelerator detector:
#   python -m controller | python -m webhooks | python -m downloader | python -m detector
# Built with `docker build .`, or without Docker by `make image` (buildah, on a Debian base that
# hack/build-images.sh makes with mmdebstrap; see docs/development.md).

# Pinned release of the base image (the digest is pinned by the release pipeline). Any Debian
# bookworm image with Python 3.11 and the venv module works, e.g. the one `make image` builds.
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
RUN python -m venv /opt/aim-engine
COPY pyproject.toml constraints.txt README.md ./
# Runtime dependencies only, at the versions CI tested (constraints.txt); no dev extras. In a
# layer of their own, so that a change of the sources rebuilds in seconds.
RUN /opt/aim-engine/bin/pip install --upgrade pip==25.3 \
 && python -c 'import tomllib; print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]))' > requirements.txt \
 && /opt/aim-engine/bin/pip install -c constraints.txt -r requirements.txt
COPY activator ./activator
COPY api ./api
COPY certs ./certs
COPY cli ./cli
COPY controller ./controller
COPY detector ./detector
COPY downloader ./downloader
COPY webhooks ./webhooks
RUN /opt/aim-engine/bin/pip install --no-deps -c constraints.txt .
# The runtime uid gets a passwd entry: libraries ask who they run as (getpass.getuser() falls back
# to pwd.getpwuid() when USER and LOGNAME are unset, and raises for an unknown uid). Made here, from
# the same base, so that the final stage runs nothing.
RUN cp /etc/passwd /etc/group /tmp/ \
 && echo 'aim-engine:x:65532:65532:AIM Engine:/tmp:/usr/sbin/nologin' >> /tmp/passwd \
 && echo 'aim-engine:x:65532:' >> /tmp/group

FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="aim-engine-python" \
      org.opencontainers.image.description="AIM Engine: Kubernetes control plane for LLM inference on AMD GPUs" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=build /opt/aim-engine /opt/aim-engine
COPY --from=build /tmp/passwd /tmp/group /etc/
# The chart runs it as 65532 with a read-only root filesystem; /tmp is an emptyDir there.
ENV PATH=/opt/aim-engine/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp \
    USER=aim-engine \
    LOGNAME=aim-engine
USER 65532:65532
ENTRYPOINT ["python", "-m"]
CMD ["controller"]
