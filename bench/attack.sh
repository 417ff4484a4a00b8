#!/usr/bin/env bash
# The attack harness (RELIABILITY.md), in one command:
#   bench/attack.sh
# Builds meshgate and examples/attack.rs in release mode, makes certificates for the Service
# name, then reproduces every attack of RELIABILITY.md against a fresh `meshgate serve` each
# (loopback ports 28443 and 28080) and prints the table. Takes about a minute.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet --release --bin meshgate --example attack
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
target/release/meshgate certs --service meshgate --namespace meshgate-system --out-dir "$work/certs" >/dev/null 2>&1
target/release/examples/attack --meshgate target/release/meshgate --work "$work"
