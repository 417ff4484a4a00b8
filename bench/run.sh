#!/usr/bin/env bash
# The admission load benchmark (BENCHMARKS.md), in one command:
#   bench/run.sh [SECONDS]
# Builds meshgate and the two benchmark programs (examples/baseline.rs, examples/loadgen.rs),
# then for the baseline server and for meshgate in turn: starts the server pinned to CPU 0, the
# load generator pinned to CPU 1, measures start → first answered review, a closed-loop run on
# the full corpus (throughput), an open-loop run at 2,000 reviews/s without the 2 MiB review
# (latency), the server's CPU time and peak RSS, and prints a table.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
cargo build --quiet --release --bin meshgate --example baseline --example loadgen
bin=target/release
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
"$bin/meshgate" certs --service meshgate --namespace meshgate-system --out-dir "$work/certs" >/dev/null 2>&1
load=(taskset -c 1 "$bin/examples/loadgen")
common=(--addr 127.0.0.1:18443 --ca "$work/certs/ca.crt" --connections 8)

cpu_ms() { # utime + stime of a process, in milliseconds
  awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) * 1000 / hz}' "/proc/$1/stat"
}

run_target() {
  local name=$1; shift
  local since; since=$(date +%s%N)
  taskset -c 0 "$@" >"$work/$name.log" 2>&1 &
  local pid=$!
  local ready; ready=$("${load[@]}" ready "${common[@]}" --since "$since")
  local cpu0; cpu0=$(cpu_ms "$pid")
  local closed; closed=$("${load[@]}" closed "${common[@]}" --seconds "$seconds" --large-every 1000)
  local cpu1; cpu1=$(cpu_ms "$pid")
  local open; open=$("${load[@]}" open "${common[@]}" --seconds "$seconds" --rate 2000 --large-every 0)
  local rss_kib; rss_kib=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
  kill "$pid"; wait "$pid" 2>/dev/null || true
  python3 - "$name" "$ready" "$closed" "$open" "$cpu0" "$cpu1" "$rss_kib" >>"$work/results.jsonl" <<'PY'
import json, sys
name, ready, closed, opened, cpu0, cpu1, rss = sys.argv[1:]
closed = json.loads(closed)
print(json.dumps({"name": name, "ready": json.loads(ready), "closed": closed, "open": json.loads(opened),
                  "cpu_ms_per_1000": (float(cpu1) - float(cpu0)) * 1000 / max(closed["requests"], 1),
                  "peak_rss_mib": int(rss) / 1024}))
PY
}

run_target baseline "$bin/examples/baseline" --listen 127.0.0.1:18443 \
  --tls-cert "$work/certs/tls.crt" --tls-key "$work/certs/tls.key"
run_target meshgate "$bin/meshgate" serve --listen 127.0.0.1:18443 --admin-listen 127.0.0.1:18080 \
  --tls-cert "$work/certs/tls.crt" --tls-key "$work/certs/tls.key" --log-format json

python3 - "$work/results.jsonl" <<'PY'
import json, sys
rows = {r["name"]: r for r in map(json.loads, open(sys.argv[1]))}
base, mesh = rows["baseline"], rows["meshgate"]
def line(label, b, m, ratio=None):
    print(f"| {label} | {b} | {m} |" + (f" {ratio} |" if ratio is not None else " |"))
print("| | baseline | meshgate | meshgate / baseline |")
print("|---|---|---|---|")
bt, mt = base["closed"]["throughput"], mesh["closed"]["throughput"]
line("throughput, full mix (reviews/s)", f"{bt:,.0f}", f"{mt:,.0f}", f"{mt / bt:.0%}")
for key, label in [("p50_us", "p50"), ("p99_us", "p99"), ("p999_us", "p99.9"), ("max_us", "max")]:
    b, m = base["open"][key], mesh["open"][key]
    line(f"latency at {mesh['open']['rate']:,}/s, {label} (µs)", f"{b:,}", f"{m:,}", f"{m / max(b, 1):.2f}×")
line("CPU per 1,000 reviews (ms)", f"{base['cpu_ms_per_1000']:.1f}", f"{mesh['cpu_ms_per_1000']:.1f}",
     f"{mesh['cpu_ms_per_1000'] / max(base['cpu_ms_per_1000'], 1e-9):.2f}×")
line("peak RSS (MiB)", f"{base['peak_rss_mib']:.1f}", f"{mesh['peak_rss_mib']:.1f}",
     f"{mesh['peak_rss_mib'] / base['peak_rss_mib']:.2f}×")
line("start → first answered review (ms)", f"{base['ready']['ready_ms']:.1f}", f"{mesh['ready']['ready_ms']:.1f}")
errors = base["closed"]["errors"] + base["open"]["errors"] + mesh["closed"]["errors"] + mesh["open"]["errors"]
print(f"\nrequests: baseline {base['closed']['requests'] + base['open']['requests']:,}, "
      f"meshgate {mesh['closed']['requests'] + mesh['open']['requests']:,}; errors: {errors}")
PY
