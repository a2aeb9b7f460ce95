#!/usr/bin/env bash
# The end-to-end run under the real Pulumi engine (`make e2e`, docs/e2e.md):
#  1. builds or reuses the Pulumi CLI and the Kubernetes provider
#     (scripts/e2e-tools.sh, cached outside the repository);
#  2. `mmllm deploy --stack local --render-dir DIR --policy-pack PACK`: an
#     update of the local stack that renders every manifest into DIR (no
#     cluster), gated by the policy-pack executable;
#  3. `go test -tags e2e ./infra/deploy/`: every rendered document decodes
#     strictly into its k8s.io/api type, one object per Kubernetes object the
#     program registers; a preview of the local stack with --policy-pack
#     passes with the policy runner's verdicts; a preview of a deliberately
#     insecure fixture is blocked with the expected rule ids.
# State lives in a file:// backend in a temporary directory, removed at the
# end unless MMLLM_E2E_KEEP=1 (the render directory is kept then too).
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"

start=$SECONDS
eval "$(bash scripts/e2e-tools.sh)"
echo "e2e: tools ready in $((SECONDS - start))s: $(pulumi version), kubernetes provider $MMLLM_E2E_K8S_VERSION"

work="$(mktemp -d "${TMPDIR:-/tmp}/mmllm-e2e.XXXXXX")"
if [ "${MMLLM_E2E_KEEP:-}" = 1 ]; then
	echo "e2e: keeping $work"
else
	trap 'rm -rf "$work"' EXIT
fi
mkdir -p "$work/state" "$work/bin"
export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE:-mmllm-e2e-not-a-secret}"
export MMLLM_E2E_BACKEND="file://$work/state"
export MMLLM_E2E_RENDER_DIR="$work/render"
export MMLLM_E2E_POLICY_PACK="$work/bin/mmllm-policy-pack"
# Throwaway secrets for the local stack (render mode reads no kubeconfig).
export E2E_API_TOKENS="e2e-token-$RANDOM$RANDOM"
export E2E_REDIS_PASSWORD="e2e-redis-$RANDOM$RANDOM$RANDOM"
export E2E_GRAFANA_PASSWORD="e2e-grafana-$RANDOM$RANDOM$RANDOM"

step=$SECONDS
go build -o "$work/bin/mmllm" ./cmd/mmllm
go build -o "$MMLLM_E2E_POLICY_PACK" ./policies/cmd/mmllm-policy-pack
echo "e2e: mmllm and the policy pack built in $((SECONDS - step))s"

step=$SECONDS
"$work/bin/mmllm" deploy --stack local --render-dir "$MMLLM_E2E_RENDER_DIR" \
	--backend "$MMLLM_E2E_BACKEND" --secrets-provider passphrase \
	--policy-pack "$MMLLM_E2E_POLICY_PACK" \
	--secret-env apiTokens=E2E_API_TOKENS \
	--secret-env redisPassword=E2E_REDIS_PASSWORD \
	--secret-env grafanaAdminPassword=E2E_GRAFANA_PASSWORD
echo "e2e: up (render mode) in $((SECONDS - step))s: $(find "$MMLLM_E2E_RENDER_DIR" -name '*.yaml' | wc -l) files in $MMLLM_E2E_RENDER_DIR"

step=$SECONDS
go test -tags e2e -count=1 -v -run '^TestE2E' ./infra/deploy/
echo "e2e: checks in $((SECONDS - step))s; all passed in $((SECONDS - start))s"
