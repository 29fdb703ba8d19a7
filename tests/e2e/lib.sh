# Helpers for end-to-end scenarios: start emulators on free loopback ports, report
# "ok - name" / "not ok - name" lines for tests/run.sh, clean up whatever happens.
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ROOT=$PWD
PB=${PB:-$ROOT/build/san/posbridge}
export LC_ALL=C TZ=UTC
E2E=$(mktemp -d)
EMU_PIDS=()

# start_emulator runs in $(...), a subshell: its pids go to a file, not to a variable.
emu_kill() {
    [ -f "$E2E/.emulator-pids" ] && while read -r p; do kill "$p" 2>/dev/null; done < "$E2E/.emulator-pids"
    for p in "${EMU_PIDS[@]}"; do kill -- "$p" 2>/dev/null; done # -PID: a process group
    wait 2>/dev/null
}
e2e_cleanup() {
    emu_kill
    rm -rf "$E2E"
}
trap e2e_cleanup EXIT
[ -n "${E2E_KEEP:-}" ] && trap 'echo kept $E2E; emu_kill' EXIT

# start_emulator NAME SCRIPT ARGS... : prints the port
start_emulator() {
    local name=$1 script=$2
    shift 2
    python3 "$ROOT/tests/emulators/$script" --port 0 --port-file "$E2E/$name.port" \
        --log-file "$E2E/$name.log.jsonl" "$@" > "$E2E/$name.out" 2>&1 &
    EMU_PIDS+=($!)
    echo $! >> "$E2E/.emulator-pids"
    for _ in $(seq 1 150); do
        [ -s "$E2E/$name.port" ] && { cat "$E2E/$name.port"; return 0; }
        sleep 0.1
    done
    echo "emulator $name did not start:" >&2
    cat "$E2E/$name.out" >&2
    return 1
}

# emu PORT PATH [curl args]: a control request to an emulator
emu() {
    local port=$1 path=$2
    shift 2
    curl -s --max-time 20 "$@" "http://127.0.0.1:$port$path"
}

# py EXPR < json : evaluate a Python expression with the JSON on stdin as `s`
py() { python3 -c "import json,sys; s=json.load(sys.stdin); print($1)"; }

ok() { echo "ok - $1"; }
not_ok() { echo "not ok - $1"; shift; for l in "$@"; do echo "#   $l"; done; }
# check NAME CONDITION-COMMAND... : ok when the command succeeds
check() {
    local name=$1
    shift
    if "$@"; then ok "$name"; else not_ok "$name" "failed: $*"; fi
}
eq() { [ "$1" = "$2" ] || { echo "#   expected '$2', got '$1'"; return 1; }; }
