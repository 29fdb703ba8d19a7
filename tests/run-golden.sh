#!/usr/bin/env bash
# Golden tests.  Each tests/golden/<case>/ holds:
#   cmd       the command line, run from the repository root with bash; $PB is the
#             program, $OUT a fresh directory the case may write to (it does not exist yet)
#   rc        the expected exit code
#   stdout    expected standard output   (optional)
#   stderr    expected standard error    (optional)
#   expected/ expected files under $OUT  (optional; every file there must match, and no
#             other file may appear)
# Output is normalised: the temp directory prints as $OUT, the "created" and "identity"
# lines of a manifest are dropped.  With GOLDEN_UPDATE=1 the expectations are rewritten instead.
set -u
failed=0
cd "$(dirname "$0")/.."
: "${PB:=$PWD/build/san/posbridge}"
export PB LC_ALL=C TZ=UTC
only=${1:-}

norm() { sed -E -e "s#$T/out#\$OUT#g" -e "s#$T#\$TMP#g" -e "s/, [0-9]+\.[0-9]+s\$/, N.NNs/" "$1"; }
norm_manifest() {
    grep -v '"created":' "$1" | sed -e "s#$T/out#\$OUT#g" |
        awk '/"identity":/ { sub(/,$/, "", prev); next } NR > 1 { print prev } { prev = $0 } END { print prev }'
}
# Text outputs may name the temp directory (a rejects file's source column): normalise.
norm_file() {
    case "$1" in
        *.gz) cat "$1" ;;
        */manifest.json) norm_manifest "$1" ;;
        *) sed -e "s#$T/out#\$OUT#g" "$1" ;;
    esac
}

for dir in tests/golden/*/; do
    name=$(basename "$dir")
    [ -n "$only" ] && [ "$name" != "$only" ] && continue
    T=$(mktemp -d)
    export OUT=$T/out
    bash -c "$(cat "$dir/cmd")" > "$T/stdout" 2> "$T/stderr"
    rc=$?
    ok=1
    if [ "${GOLDEN_UPDATE:-}" = 1 ]; then
        echo "$rc" > "$dir/rc"
        norm "$T/stdout" > "$dir/stdout"
        norm "$T/stderr" > "$dir/stderr"
        rm -rf "$dir/expected"
        if [ -d "$OUT" ]; then
            mkdir -p "$dir/expected"
            (cd "$OUT" && find . -type f ! -name '.*' | sort) | while read -r f; do
                mkdir -p "$dir/expected/$(dirname "$f")"
                norm_file "$OUT/$f" > "$dir/expected/$f"
            done
        fi
        echo "ok - $name (updated)"
        rm -rf "$T"
        continue
    fi
    want_rc=$(cat "$dir/rc")
    if [ "$rc" != "$want_rc" ]; then
        echo "#   $name: exit code $rc, expected $want_rc"; ok=0
    fi
    for s in stdout stderr; do
        [ -f "$dir/$s" ] || continue
        if ! norm "$T/$s" | diff -u "$dir/$s" - > "$T/diff"; then
            echo "#   $name: $s differs:"; sed 's/^/#   /' "$T/diff" | head -40; ok=0
        fi
    done
    if [ -d "$dir/expected" ]; then
        have=$( [ -d "$OUT" ] && cd "$OUT" && find . -type f ! -name '.*' | sort)
        want=$(cd "$dir/expected" && find . -type f | sort)
        if [ "$have" != "$want" ]; then
            echo "#   $name: files differ: have [$(echo $have)], want [$(echo $want)]"; ok=0
        fi
        for f in $want; do
            [ -f "$OUT/$f" ] || continue
            norm_file "$OUT/$f" > "$T/cmpfile"
            if ! cmp -s "$dir/expected/$f" "$T/cmpfile"; then
                echo "#   $name: $f differs:"; diff -u "$dir/expected/$f" "$T/cmpfile" | head -30 | sed 's/^/#   /'; ok=0
            fi
        done
    elif [ -d "$OUT" ] && [ -n "$(ls -A "$OUT")" ]; then
        echo "#   $name: output was left behind in \$OUT"; ok=0
    fi
    if [ "$ok" = 1 ]; then echo "ok - $name"; else echo "not ok - $name"; failed=1; fi
    rm -rf "$T"
done
exit "$failed"
