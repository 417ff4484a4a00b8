#!/usr/bin/env bash
# Builds every fuzz target and runs each, one after another, for RUNS executions (default ten
# million) on one core. A crash, panic, hang (10 s), RSS over 2 GiB or a single allocation over
# 512 MiB stops a target and leaves the input in fuzz/artifacts/<target>/.
#
#   fuzz/run.sh [RUNS] [TARGET...]
#
# Environment: SANITIZER (address by default; `none` runs several times faster), LOG_DIR
# (fuzz/logs). cargo-fuzz needs nightly flags: on a stable toolchain RUSTC_BOOTSTRAP=1 allows
# them. Install it with `cargo install cargo-fuzz --locked`.
set -euo pipefail
cd "$(dirname "$0")"

runs=${1:-10000000}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(review_bytes review_structured policy_load yaml_fix)
fi
sanitizer=${SANITIZER:-address}
log_dir=${LOG_DIR:-logs}
export RUSTC_BOOTSTRAP=${RUSTC_BOOTSTRAP:-1}

# review_structured reads a plan of edits, not a body: 4 KiB is many edits, and keeps the
# recursion of decoding nested values well within the stack.
max_len() {
    case "$1" in
        review_bytes) echo 65536 ;;
        review_structured) echo 4096 ;;
        yaml_fix) echo 16384 ;;
        policy_load) echo 4096 ;;
    esac
}

# Release build with debug assertions, so that arithmetic overflow panics.
cargo fuzz build -O --debug-assertions -s "$sanitizer"
bin=target/x86_64-unknown-linux-gnu/release

[ -d corpus/review_bytes ] || ./seed.sh
mkdir -p "$log_dir"
status=0
for target in "${targets[@]}"; do
    mkdir -p "corpus/$target" "artifacts/$target"
    log="$log_dir/$target.log"
    start=$(date +%s)
    echo "$target: $runs runs, log in $log"
    if "$bin/$target" "corpus/$target" \
        -runs="$runs" -max_len="$(max_len "$target")" -timeout=10 \
        -rss_limit_mb=2048 -malloc_limit_mb=512 \
        -artifact_prefix="artifacts/$target/" -print_final_stats=1 >"$log" 2>&1; then
        result=ok
    else
        result="FAILED (see $log and artifacts/$target/)"
        status=1
    fi
    echo "$target: $result in $(($(date +%s) - start)) s; $(grep -E '^#[0-9]+.*(DONE|pulse)' "$log" | tail -1)"
    grep -E '^stat::' "$log" || true
done
exit $status
