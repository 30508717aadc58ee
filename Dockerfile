# Dockyard's image: a virtualenv built in the first stage, copied onto a clean base in the second.
#
# Build arguments:
#   BASE_IMAGE        any Debian-like image with python3 (3.11+), python3-venv, useradd. The default
#                     is the official slim image. Where no registry is reachable, make a base from
#                     Debian packages (scripts/lib.sh ensure_base_image: debootstrap + docker import)
#                     and pass --build-arg BASE_IMAGE=dockyard-base:test.
#   DOCKER_GID        the group that owns the engine socket on the host, `stat -c %g /var/run/docker.sock`.
#                     The dockyard user joins it. Instead of baking it in you may add the group at run
#                     time: `docker run --group-add <gid>`, compose `group_add`, Kubernetes
#                     `securityContext.supplementalGroups`.
#   APP_UID           the non-root user id the service runs as.
#   PIP_INSTALL_OPTS  extra pip options. `scripts/build-image --offline` builds the wheels on the host
#                     into the context's wheels/ and passes "--no-index --find-links /src", for
#                     builders whose containers cannot reach PyPI.
#
# Configuration is by environment: every DOCKYARD_* variable is a field of app/settings.py.
ARG BASE_IMAGE=python:3.11-slim-bookworm

# Dependencies only, from pyproject.toml: this layer is rebuilt when they change, not when app/ does.
FROM ${BASE_IMAGE} AS deps
# The legacy builder keeps this stage as an untagged image (the cache); the label lets
# scripts/build-image remove the ones a dependency change left behind.
LABEL dev.dockyard.stage=deps
ARG PIP_INSTALL_OPTS=""
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1
# wheel[s]: host-built wheels when the context has them (their files land in /src), else nothing.
COPY pyproject.toml wheel[s] /src/
# pip is a build tool: the running service never needs it.
RUN python3 -c 'import tomllib; print(*tomllib.load(open("/src/pyproject.toml", "rb"))["project"]["dependencies"], sep="\n")' >/src/requirements.txt \
    && python3 -m venv /opt/dockyard \
    && /opt/dockyard/bin/pip install -q ${PIP_INSTALL_OPTS} -r /src/requirements.txt \
    && /opt/dockyard/bin/pip uninstall -q -y pip setuptools

FROM ${BASE_IMAGE}
ARG DOCKER_GID=999
ARG APP_UID=10001
ENV PATH=/opt/dockyard/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    PYTHONPATH=/srv/dockyard \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DOCKYARD_HOST=0.0.0.0 \
    DOCKYARD_PORT=8000 \
    DOCKYARD_ENGINE_URL=unix:///var/run/docker.sock \
    DOCKYARD_LOG_FORMAT=json \
    DOCKYARD_KEYS_FILE=/var/lib/dockyard/keys.json \
    DOCKYARD_AUDIT_FILE=/var/lib/dockyard/audit.jsonl
# The socket's group may already exist in the base under another name; join it by id either way.
RUN set -eu; \
    getent group "${DOCKER_GID}" >/dev/null || groupadd --system --gid "${DOCKER_GID}" docker; \
    useradd --system --uid "${APP_UID}" --user-group --no-create-home \
        --home-dir /nonexistent --shell /usr/sbin/nologin \
        --groups "$(getent group "${DOCKER_GID}" | cut -d: -f1)" dockyard
# The large layer (dependencies) stays cached while only the application changes.
# Keys and the audit trail are the only state: a volume, so the root filesystem can be read-only.
RUN install -d -m 0700 -o "${APP_UID}" /var/lib/dockyard
VOLUME /var/lib/dockyard
COPY --from=deps /opt/dockyard /opt/dockyard
COPY app /srv/dockyard/app
# Compiled ahead: the root filesystem is read-only at run time.
RUN python -m compileall -q /srv/dockyard/app
WORKDIR /srv/dockyard
# Numeric, so Kubernetes can verify runAsNonRoot.
USER ${APP_UID}
EXPOSE 8000
# No curl in the image: the check is Python, and follows DOCKYARD_HOST/DOCKYARD_PORT.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD ["python", "-m", "app.cli.healthcheck"]
ENTRYPOINT ["python", "-m", "app"]
