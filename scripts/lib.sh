# Shared set-up for scripts/serve and scripts/test: packages, the engine, the test image, the venv.
# Sourced, not run. Everything here is idempotent: it reuses what already works.

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${DOCKYARD_VENV:-$ROOT/.venv}"
STATE="${DOCKYARD_STATE_DIR:-$ROOT/.dockyard}"  # logs, pid files, caches of what we start (tests: elsewhere)
SOCKET="${DOCKYARD_DOCKER_SOCKET:-/var/run/docker.sock}"
ENGINE_WAIT_SECONDS="${DOCKYARD_ENGINE_WAIT_SECONDS:-60}"
TEST_IMAGE="busybox:local"

mkdir -p "$STATE"

say() { printf '[dockyard] %s\n' "$*" >&2; }

engine_answers() {
    curl -sf --max-time 2 --unix-socket "$SOCKET" http://docker/_ping >/dev/null 2>&1
}

apt_install() {
    # Install the Debian packages that are missing (apt-get update only when needed).
    local missing=()
    for pkg in "$@"; do
        dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" != 0 ]; then
        say "need root to install: ${missing[*]}"; exit 1
    fi
    say "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >"$STATE/apt.log" 2>&1 || { cat "$STATE/apt.log" >&2; exit 1; }
    apt-get install -y -qq "${missing[@]}" >>"$STATE/apt.log" 2>&1 || { tail -30 "$STATE/apt.log" >&2; exit 1; }
}

ensure_packages() {
    local pkgs=(curl)
    command -v dockerd >/dev/null 2>&1 || pkgs+=(docker.io)
    # The static build: a dynamically linked busybox cannot run in a FROM scratch image.
    dpkg -s busybox-static >/dev/null 2>&1 || pkgs+=(busybox-static)
    apt_install "${pkgs[@]}" "$@"
}

ensure_engine() {
    if engine_answers; then
        say "reusing the engine at $SOCKET"
        return 0
    fi
    ensure_packages
    local pidfile=/var/run/docker.pid
    if [ -f "$pidfile" ] && ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
        say "removing stale $pidfile"
        rm -f "$pidfile"
    fi
    say "starting dockerd (log: $STATE/dockerd.log)"
    nohup dockerd --host "unix://$SOCKET" >"$STATE/dockerd.log" 2>&1 &
    local deadline=$((SECONDS + ENGINE_WAIT_SECONDS))
    until engine_answers; do
        if [ $SECONDS -ge $deadline ]; then
            say "dockerd did not answer within ${ENGINE_WAIT_SECONDS}s; see $STATE/dockerd.log:"
            tail -20 "$STATE/dockerd.log" >&2
            exit 1
        fi
        sleep 0.2
    done
    say "engine is up"
}

ensure_test_image() {
    if docker -H "unix://$SOCKET" image inspect "$TEST_IMAGE" >/dev/null 2>&1; then
        return 0
    fi
    ensure_packages
    say "building $TEST_IMAGE from Debian's static busybox"
    local ctx
    ctx="$(mktemp -d)"
    cp /bin/busybox "$ctx/busybox"
    cat >"$ctx/Dockerfile" <<'DOCKERFILE'
FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
CMD ["/bin/sh"]
DOCKERFILE
    docker -H "unix://$SOCKET" build -q -t "$TEST_IMAGE" "$ctx" >/dev/null
    rm -rf "$ctx"
}

ensure_venv() {
    if [ ! -x "$VENV/bin/python" ]; then
        say "creating $VENV"
        python3 -m venv "$VENV"
    fi
    local stamp="$VENV/.dockyard-installed"
    if [ ! -f "$stamp" ] || [ "$ROOT/pyproject.toml" -nt "$stamp" ]; then
        say "installing Python dependencies"
        "$VENV/bin/pip" install -q --disable-pip-version-check -e "$ROOT[dev]"
        touch "$stamp"
    fi
}

BASE_IMAGE="${DOCKYARD_TEST_BASE_IMAGE:-dockyard-base:test}"

apt_mirror() {
    # The Debian archive this machine already installs from (deb822 or one-line sources).
    local suite="$1" files=() f
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] && files+=("$f")
    done
    [ ${#files[@]} -eq 0 ] && return 0
    awk -v s="$suite" '
        /^URIs:/   { uri = $2 }
        /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == s) { print uri; exit } }
        /^deb /    { line = $0; gsub(/\[[^]]*\]/, "", line); split(line, f, " ");
                     if (f[3] == s) { print f[2]; exit } }' "${files[@]}"
}

ensure_base_image() {
    # A Debian base with python3 for the Dockerfile (no registry to pull one from): made once with
    # debootstrap, imported, and reused by every later run while the engine keeps it.
    if docker -H "unix://$SOCKET" image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
        return 0
    fi
    apt_install debootstrap
    local suite mirror rootfs
    suite="$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")"
    mirror="$(apt_mirror "$suite")"
    mirror="${mirror:-http://deb.debian.org/debian}"
    rootfs="$(mktemp -d)"
    say "building $BASE_IMAGE: debootstrap $suite from $mirror (about a minute; log: $STATE/debootstrap.log)"
    if ! debootstrap --variant=minbase --include=python3,python3-venv "$suite" "$rootfs" "$mirror" \
        >"$STATE/debootstrap.log" 2>&1; then
        tail -20 "$STATE/debootstrap.log" >&2; rm -rf "$rootfs"; exit 1
    fi
    # What a container never reads: package caches, documentation, translations.
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* \
        "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/locale/*
    tar -C "$rootfs" -c . | docker -H "unix://$SOCKET" import \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'CMD ["/bin/bash"]' - "$BASE_IMAGE" >/dev/null
    rm -rf "$rootfs"
    say "made $BASE_IMAGE"
}

# The pinned npm tools of clients/typescript (openapi-ts, tsc, redocly), installed with `npm ci`
# whenever the lock file is newer than the installed tree.
ensure_node_tools() {
    local dir="$ROOT/clients/typescript"
    if ! command -v npm >/dev/null 2>&1; then
        echo "npm is missing: install Node.js 20 or later" >&2
        exit 1
    fi
    if [ ! -f "$dir/node_modules/.package-lock.json" ] \
        || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
        say "npm ci (clients/typescript)"
        (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
    fi
}
