# shellcheck shell=bash
# Shared functions of the developer scripts (scripts/run, scripts/test, scripts/bench,
# scripts/fuzz): package installation, the meson build, a private redis-server and process
# helpers. Source it from bash running with `set -euo pipefail`; nothing here talks to anything
# but apt and 127.0.0.1.

ESS_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export ESS_ROOT

# Everything the build, the tests and scripts/run need on Debian 12 (used by the scripts);
# libjs-leaflet is compiled into the router (served under /assets/leaflet/); the triage model
# cuts Thai into words with libthai's dictionary (libthai-data, read with libdatrie-dev), and its
# test compares the cuts with libthai's own (libthai-dev).
# shellcheck disable=SC2034
ESS_PACKAGES=(meson ninja-build pkg-config gcc libevent-dev libhiredis-dev libcjson-dev
    libcurl4-openssl-dev libssl-dev redis-server python3 curl libjs-leaflet libthai-data
    libdatrie-dev libthai-dev)

# What the EIDO and OpenAPI tests add (scripts/test): they validate the router's EIDO documents
# against NENA's schema (YAML files), and the OpenAPI document's examples and the router's answers
# against its schemas, with jsonschema. The fail-over test (and scripts/ha) runs Redis Sentinel.
# shellcheck disable=SC2034
ESS_TEST_PACKAGES=(python3-jsonschema python3-yaml redis-sentinel)

# What the browser tests add (scripts/test): headless Chromium driven through Selenium, and a Thai
# font so that screenshots show Thai.
# shellcheck disable=SC2034
ESS_BROWSER_PACKAGES=(chromium chromium-driver python3-selenium fonts-thai-tlwg)

# What the fuzz targets add (scripts/fuzz, and scripts/test's short runs): clang and the runtime
# of its libFuzzer and sanitizers (libclang-rt-dev, Debian's compiler-rt for the default clang).
# shellcheck disable=SC2034
ESS_FUZZ_PACKAGES=(clang libclang-rt-dev)

ess_log() { printf '==> %s\n' "$*" >&2; }
ess_die() {
    printf 'error: %s\n' "$*" >&2
    exit 1
}

# ess_ensure_packages PKG...: installs with apt-get those of PKG that are not installed yet. Runs
# `apt-get update` once (per shell) before the first install, only if something is missing; uses
# sudo when not root. Downloads nothing but Debian packages.
ess_ensure_packages() {
    local missing=() pkg status
    for pkg in "$@"; do
        status="$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)"
        if [[ "$status" != "install ok installed" ]]; then
            missing+=("$pkg")
        fi
    done
    if [[ ${#missing[@]} -eq 0 ]]; then
        return 0
    fi
    local sudo=()
    if [[ "$(id -u)" -ne 0 ]]; then
        if command -v sudo >/dev/null 2>&1; then
            sudo=(sudo)
        else
            ess_die "missing packages (${missing[*]}) and not root without sudo: install them with apt-get as root"
        fi
    fi
    ess_log "installing missing packages: ${missing[*]}"
    if [[ -z "${ESS_APT_UPDATED:-}" ]]; then
        "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q ||
            ess_die "apt-get update failed"
        ESS_APT_UPDATED=1
    fi
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        "${missing[@]}" </dev/null || ess_die "apt-get install ${missing[*]} failed"
}

# ess_build [DIR] [MESON ARGS...]: configures DIR (default build, relative to the repository root)
# with `meson setup` on first use, reconfigures it only when the arguments differ from the last
# setup (ninja itself regenerates when a meson.build changes), then builds it with ninja.
ess_build() {
    local dir="${1:-build}"
    if [[ $# -gt 0 ]]; then shift; fi
    case "$dir" in
    /*) ;;
    *) dir="$ESS_ROOT/$dir" ;;
    esac
    local stamp="$dir/.ess-meson-args" want
    want="$(printf '%s\n' "$@")"
    if [[ ! -f "$dir/meson-private/coredata.dat" ]]; then
        ess_log "meson setup ${dir#"$ESS_ROOT"/} $*"
        (cd "$ESS_ROOT" && meson setup "$dir" "$@") || ess_die "meson setup $dir failed"
    elif [[ ! -f "$dir/build.ninja" || ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
        ess_log "meson setup --reconfigure ${dir#"$ESS_ROOT"/} $*"
        (cd "$ESS_ROOT" && meson setup --reconfigure "$dir" "$@") || ess_die "meson setup --reconfigure $dir failed"
    fi
    printf '%s' "$want" >"$stamp"
    ess_log "ninja -C ${dir#"$ESS_ROOT"/}"
    ninja -C "$dir" || ess_die "build of $dir failed (see the compiler messages above)"
}

# ess_free_port: prints a TCP port that is free on 127.0.0.1 right now (never 6379).
ess_free_port() {
    python3 - <<'EOF'
import socket
while True:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    if port != 6379:
        print(port)
        break
EOF
}

# ess_port_in_use PORT: true when something accepts connections on 127.0.0.1:PORT.
ess_port_in_use() {
    python3 - "$1" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.settimeout(0.5)
try:
    s.connect(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
sys.exit(0)
EOF
}

# ess_pid_alive PIDFILE [NAME]: true when PIDFILE names a running process (whose command line
# contains NAME, when given, so that a stale pidfile never points us at an unrelated process).
ess_pid_alive() {
    local pidfile="$1" name="${2:-}" pid
    [[ -f "$pidfile" ]] || return 1
    pid="$(tr -dc '0-9' <"$pidfile")"
    [[ -n "$pid" ]] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    if [[ -n "$name" && -r "/proc/$pid/cmdline" ]]; then
        tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$name" || return 1
    fi
    return 0
}

# ess_redis_cli PORT ARGS...: redis-cli against the private server on 127.0.0.1:PORT.
ess_redis_cli() {
    local port="$1"
    shift
    redis-cli -h 127.0.0.1 -p "$port" "$@"
}

# ess_start_redis DIR PORT: starts redis-server with scripts/redis.conf on 127.0.0.1:PORT, its
# pidfile (DIR/redis.pid), log (DIR/redis.log) and AOF under DIR; returns once it answers PING.
ess_start_redis() {
    local dir="$1" port="$2"
    [[ "$port" != 6379 ]] || ess_die "port 6379 is reserved for a developer's own Redis; choose another"
    if ess_port_in_use "$port"; then
        ess_die "127.0.0.1:$port is already in use; set another port (e.g. ESS_REDIS_PORT=6391)"
    fi
    mkdir -p "$dir"
    dir="$(cd "$dir" && pwd)"
    rm -f "$dir/redis.pid"
    redis-server "$ESS_ROOT/scripts/redis.conf" \
        --port "$port" --dir "$dir" --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" \
        --daemonize yes </dev/null || ess_die "redis-server failed to start; see $dir/redis.log"
    local i
    for ((i = 0; i < 100; i++)); do
        if [[ "$(ess_redis_cli "$port" PING 2>/dev/null || true)" == PONG ]] && [[ -s "$dir/redis.pid" ]]; then
            # The server answering must be ours, not one that raced us to the port.
            local ours theirs
            ours="$(tr -dc '0-9' <"$dir/redis.pid")"
            theirs="$(ess_redis_cli "$port" INFO server 2>/dev/null | tr -d '\r' | sed -n 's/^process_id://p')"
            [[ "$ours" == "$theirs" ]] || ess_die "127.0.0.1:$port answers, but not as the redis-server we started"
            return 0
        fi
        sleep 0.1
    done
    tail -n 20 "$dir/redis.log" >&2 2>/dev/null || true
    ess_die "redis-server on 127.0.0.1:$port did not answer PING within 10 s; see $dir/redis.log"
}

# ess_stop_pid PIDFILE [NAME] [SECONDS]: stops the process PIDFILE names (SIGTERM, then SIGKILL
# after SECONDS, default 15) and removes PIDFILE. NAME, when given, must appear in its command
# line, so a stale pidfile never kills an unrelated process. Nothing to do is not an error.
ess_stop_pid() {
    local pidfile="$1" name="${2:-}" wait_s="${3:-15}" pid i
    if ! ess_pid_alive "$pidfile" "$name"; then
        rm -f "$pidfile"
        return 0
    fi
    pid="$(tr -dc '0-9' <"$pidfile")"
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < wait_s * 10; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        ess_log "process $pid did not stop within ${wait_s}s; sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        for ((i = 0; i < 50; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
    fi
    rm -f "$pidfile"
}

# ess_wait_http URL SECONDS: returns 0 as soon as URL answers 2xx, 1 after SECONDS without.
ess_wait_http() {
    local url="$1" seconds="$2" deadline
    deadline=$((SECONDS + seconds))
    while ((SECONDS < deadline)); do
        if curl -fsS -o /dev/null --max-time 1 "$url" 2>/dev/null; then
            return 0
        fi
        sleep 0.2
    done
    return 1
}

# ess_random_token: prints a random 32-byte token as hex.
ess_random_token() {
    od -An -tx1 -N32 /dev/urandom | tr -d ' \n'
}

# ess_cpus_split PIN: unless PIN is 0, sets ROUTER_CPUS to the first CPU this run may use (a cpuset
# may allow, say, only 2 and 3) and LOAD_CPUS to the others, comma-separated; both stay empty with
# PIN 0 or fewer than two CPUs. The benchmarks pin the router on one side and the load on the other:
# a run then varies far less (the kernel no longer moves the router onto Redis' CPU).
ess_cpus_split() {
    ROUTER_CPUS="" LOAD_CPUS=""
    [[ "$1" != 0 ]] || return 0
    read -r ROUTER_CPUS LOAD_CPUS < <(python3 -c '
import os
cpus = sorted(os.sched_getaffinity(0))
print(cpus[0], ",".join(map(str, cpus[1:]))) if len(cpus) >= 2 else print()')
}

# ess_pin_self SIDE (router|load): the calling (sub)shell, and so what it execs, runs on SIDE's CPUs
# (ess_cpus_split's; nothing is pinned when they are empty).
ess_pin_self() {
    local cpus="$ROUTER_CPUS"
    [[ "$1" == router ]] || cpus="$LOAD_CPUS"
    [[ -z "$cpus" ]] || taskset -pc "$cpus" "$BASHPID" >/dev/null || ess_die "taskset failed"
}
