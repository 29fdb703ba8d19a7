# Shared by the upload benchmarks of stores without a rate limit (woocommerce.sh,
# magento.sh): their change runs last a couple of seconds, of which the requests are a
# tenth, so one run's figure moves with the machine by about as much as the target allows.
# They measure several rounds instead and report the median.
#
# rounds N STORE BATCH CONFIG PORT PATH_PREFIX
#   Round k copies BATCH/STORE/products.changed (odd k) or products.orig (even k) over
#   BATCH/STORE/products.csv, so every round is the same 1% change (or its undo, which
#   touches the same products), and runs the upload once (the change) and once more (the
#   unchanged re-run).  It writes BATCH/round<k>.json: the two wall times, the emulator's
#   busy time for the change (the union of the service times of its requests under
#   PATH_PREFIX: two requests in flight together count once) and the change's --json
#   result.
rounds() {
    local n=$1 store=$2 batch=$3 cfg=$4 port=$5 prefix=$6 k src mark t2 t3 t4 t5
    for k in $(seq 1 "$n"); do
        if [ $((k % 2)) = 1 ]; then src=changed; else src=orig; fi
        cp "$batch/$store/products.$src" "$batch/$store/products.csv"
        mark=$(curl -s "http://127.0.0.1:$port/__emulator/requests" |
            python3 -c 'import json,sys; r=json.load(sys.stdin)["requests"]; print(r[-1]["seq"] if r else 0)')
        t2=$(date +%s.%N)
        $PB -q -c "$cfg" --json upload --store "$store" "$batch" > "$batch/change$k.json"
        t3=$(date +%s.%N)
        curl -s "http://127.0.0.1:$port/__emulator/requests?since=$mark" > "$batch/requests$k.json"
        t4=$(date +%s.%N)
        $PB -q -c "$cfg" --json upload --store "$store" "$batch" > "$batch/noop$k.json"
        t5=$(date +%s.%N)
        python3 - "$batch" "$k" "$prefix" "$t2" "$t3" "$t4" "$t5" <<'PY'
import json, sys
sys.path.insert(0, "tests/bench")
from busy import busy
b, k, prefix = sys.argv[1], sys.argv[2], sys.argv[3]
t2, t3, t4, t5 = map(float, sys.argv[4:8])
reqs = [r for r in json.load(open("%s/requests%s.json" % (b, k)))["requests"]
        if r["path"].startswith(prefix)]
server = busy(reqs)  # the emulator's busy time (tests/bench/busy.py)
noop = json.load(open("%s/noop%s.json" % (b, k)))
assert noop["requests"] == 0, "the unchanged re-run made requests"
json.dump({"change": t3 - t2, "noop": t5 - t4, "server": server,
           "result": json.load(open("%s/change%s.json" % (b, k)))},
          open("%s/round%s.json" % (b, k), "w"))
PY
    done
}
