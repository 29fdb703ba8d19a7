#!/usr/bin/env bash
# Has the items file been edited since export?  Export notes the file's identity (device,
# inode, size, times) in the manifest; transform takes the manifest's digest only for that
# very file, and hashes anything else: a file touched, rewritten in place to the same size
# with its old modification time put back, or put in its place, or a manifest whose note
# does not match.
. "$(dirname "$0")/lib.sh"

CFG=$ROOT/tests/data/transform/collapse.ini
B=$E2E/batch
man() { python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$B/manifest.json" "$1"; }
tf() { $PB -v -v -c "$CFG" transform "$B" > "$E2E/tf.out" 2> "$E2E/tf.err"; }
said() { grep -q "$1" "$E2E/tf.err"; }

$PB -q export -o "$B" samples/qbpos/items-1.xml samples/qbpos/items-2.xml > /dev/null
check "export exits 0" test -s "$B/items.csv"
SHA=$(man 'm["stages"]["export"]["outputs"][0]["blake3"]')
check "export notes the items file's identity beside its digest" eq \
    "$(man 'len(m["stages"]["export"]["outputs"][0]["identity"].split(":"))')" 5
check "the noted identity is the file's (inode and size)" eq \
    "$(man '":".join(m["stages"]["export"]["outputs"][0]["identity"].split(":")[1:3])')" \
    "$(stat -c '%i:%s' "$B/items.csv")"

# 1. The file export wrote: not read for its hash.
tf
check "transform finishes (65: the samples have items it refuses)" eq "$?" 65
check "the untouched file is known by its identity" said "is the file export wrote"
check "its digest is the manifest's, not edited" eq \
    "$(man '(m["stages"]["transform"]["input"]["blake3"], m["stages"]["transform"]["input"]["edited"])')" \
    "('$SHA', False)"

# 2. Touched only: hashed, and the same bytes are not an edit.
touch -d '2026-01-02 03:04:05' "$B/items.csv"
tf
check "a touched file is hashed" eq "$(said 'is the file export wrote' && echo known || echo hashed)" hashed
check "the same bytes are not an edit" eq \
    "$(man '(m["stages"]["transform"]["input"]["blake3"], m["stages"]["transform"]["input"]["edited"])')" \
    "('$SHA', False)"

# 3. Rewritten in place to the same size, its modification time put back: the change time
# (which no program can set) tells.
$PB -q export -o "$B" --force samples/qbpos/items-1.xml samples/qbpos/items-2.xml > /dev/null
python3 - "$B/items.csv" <<'EOF'
import os, sys
p = sys.argv[1]
st = os.stat(p)
with open(p, "r+b") as f:
    data = f.read()
    i = data.index(b",34.99,")
    f.seek(i + 1)
    f.write(b"34.98")
os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))
after = os.stat(p)
assert (after.st_size, after.st_mtime_ns, after.st_ino) == (st.st_size, st.st_mtime_ns, st.st_ino)
EOF
tf
check "an edit in place of the same size, mtime restored, is hashed" eq \
    "$(said 'is the file export wrote' && echo known || echo hashed)" hashed
check "and seen as edited" eq "$(man 'm["stages"]["transform"]["input"]["edited"]')" True
check "with a warning" said "changed since export (edited by hand)"
check "the new bytes' digest is recorded" eq \
    "$(man 'm["stages"]["transform"]["input"]["blake3"]')" "$(b3sum --no-names "$B/items.csv" | cut -c1-64)"

# 4. Another file in its place (same bytes, new inode): hashed, not an edit.
$PB -q export -o "$B" --force samples/qbpos/items-1.xml samples/qbpos/items-2.xml > /dev/null
cp -p "$B/items.csv" "$B/items.new" && mv "$B/items.new" "$B/items.csv"
tf
check "a file put in its place is hashed" eq "$(said 'is the file export wrote' && echo known || echo hashed)" hashed
check "the same bytes in a new file are not an edit" eq "$(man 'm["stages"]["transform"]["input"]["edited"]')" False

# 5. A manifest whose note is not the file's (or is not an identity at all): hashed.
$PB -q export -o "$B" --force samples/qbpos/items-1.xml samples/qbpos/items-2.xml > /dev/null
python3 - "$B/manifest.json" <<'EOF'
import json, sys
m = json.load(open(sys.argv[1]))
m["stages"]["export"]["outputs"][0]["identity"] = "not an identity"
json.dump(m, open(sys.argv[1], "w"), indent=2)
EOF
tf
check "a note that does not match is not trusted" eq "$(said 'is the file export wrote' && echo known || echo hashed)" hashed
check "and the file is hashed to the same digest" eq \
    "$(man '(m["stages"]["transform"]["input"]["blake3"], m["stages"]["transform"]["input"]["edited"])')" \
    "('$SHA', False)"
