#!/usr/bin/env bash
# Builds the starting corpus of every fuzz target in fuzz/corpus/<target>/ from the project's
# test data: the captured AdmissionReview bodies, the YAML manifests and the policy files, plus
# the saved inputs that once found bugs (tests/fixtures/fuzz/<target>/). Needs jq.
set -euo pipefail
cd "$(dirname "$0")/.."
fixtures=tests/fixtures
corpus=fuzz/corpus

mkdir -p "$corpus"/{review_bytes,review_structured,yaml_fix,policy_load}

# review_bytes: a first byte picking policy and webhook (0-3, see checks::pick), then the body.
for capture in "$fixtures"/admission/*.json; do
    name=$(basename "$capture" .json)
    for hook in 0 1 2 3; do
        { printf "\\x0$hook"; jq -c .body "$capture"; } > "$corpus/review_bytes/$name-$hook"
    done
done

# review_structured: each captured request without an edit under each policy and webhook
# (the first byte picks the request, the second policy and webhook).
for fixture in 0 1 2 3 4 5 6; do
    for choice in 0 1 2 3; do
        printf "\\x0$fixture\\x0$choice" > "$corpus/review_structured/fixture-$fixture-$choice"
    done
done

# yaml_fix: every manifest of the test data and the deployment.
find "$fixtures" deploy -name '*.yaml' -not -path "$fixtures/fuzz/*" | while read -r file; do
    cp "$file" "$corpus/yaml_fix/$(echo "$file" | tr / _)"
done

# policy_load: the shipped policy and the policies of the tests.
cp deploy/base/policy.yaml "$corpus/policy_load/deploy-policy.yaml"
printf 'apiVersion: meshgate.io/v1alpha1\nkind: Policy\nmode: audit\nminIstioVersion: "1.22"\nexemptUsers: [a]\nexemptGroups: [b]\nrules:\n  virtualservice-legacy-fields: fix\n  virtualservice-weights: warn\n  namespace-injection-conflict: off\n' \
    > "$corpus/policy_load/all-keys.yaml"

# Saved findings and regression inputs.
for target in review_bytes review_structured yaml_fix policy_load; do
    if [ -d "$fixtures/fuzz/$target" ]; then
        find "$fixtures/fuzz/$target" -type f -exec cp {} "$corpus/$target/" \;
    fi
done
echo "seeded: $(for t in "$corpus"/*; do printf '%s=%s ' "$(basename "$t")" "$(ls "$t" | wc -l)"; done)"
