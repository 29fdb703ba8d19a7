#!/usr/bin/env bash
# Run every test suite and end with "N passed, N failed".  Called by `make check`, which
# has built the sanitizer binary (build/san/posbridge) and the unit tests first.
set -u
cd "$(dirname "$0")/.."
export LC_ALL=C TZ=UTC
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export PB=$PWD/build/san/posbridge
export PB_ROOT=$PWD
passed=0 failed=0
results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT

count() { # suite name, file with "ok - " / "not ok - " lines
    local p f
    p=$(grep -c '^ok - ' "$2" || true)
    f=$(grep -c '^not ok - ' "$2" || true)
    passed=$((passed + p)); failed=$((failed + f))
    if [ "$f" -gt 0 ]; then grep -B20 '^not ok - ' "$2" | grep -v '^ok - '; fi
    printf '%-10s %4d passed, %d failed\n' "$1" "$p" "$f"
}

# Unit tests: one binary per module.
: > "$results/unit"
for t in build/san/tests/test_*; do
    [ -x "$t" ] || continue
    if ! "$t" >> "$results/unit" 2>&1; then
        grep -q '^not ok' "$results/unit" || echo "not ok - $(basename "$t") crashed" >> "$results/unit"
    fi
done
count unit "$results/unit"

# Fuzz harnesses run by a plain driver: their seeds, then random edits for a few seconds.
: > "$results/fuzz"
for f in build/san/fuzz/fuzz_*; do
    [ -x "$f" ] || continue
    n=${f##*/}
    if ! (cd build/san/fuzz && "./$n" -t "${FUZZ_CHECK_SECONDS:-10}" "$n" \
          "$PB_ROOT/tests/fuzz/seeds/${n#fuzz_}") >> "$results/fuzz" 2>&1; then
        echo "not ok - $n (the input is in build/san/fuzz/$n-failure.bin)" >> "$results/fuzz"
    fi
done
count fuzz "$results/fuzz"

# Golden tests: one directory per case.
bash tests/run-golden.sh > "$results/golden" 2>&1
count golden "$results/golden"

# End-to-end scenarios.
: > "$results/e2e"
for t in tests/e2e/*.sh; do
    [ -f "$t" ] || continue
    bash "$t" >> "$results/e2e" 2>&1 || grep -q '^not ok' "$results/e2e" || echo "not ok - $t exited non-zero" >> "$results/e2e"
done
count e2e "$results/e2e"

# The emulators' own tests.
if ls tests/emulators/*/test_*.py >/dev/null 2>&1; then
    if python3 -m unittest discover -s tests/emulators -p 'test_*.py' > "$results/emu.log" 2>&1; then
        n=$(grep -Eo '^Ran [0-9]+' "$results/emu.log" | grep -Eo '[0-9]+' || echo 0)
        for _ in $(seq 1 "$n"); do echo "ok - emulator"; done > "$results/emu"
    else
        tail -30 "$results/emu.log"
        echo "not ok - emulator tests" > "$results/emu"
    fi
    count emulators "$results/emu"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
