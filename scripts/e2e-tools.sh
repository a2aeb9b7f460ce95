#!/usr/bin/env bash
# Builds, or reuses from a cache outside the repository, the binaries the
# end-to-end run needs: the Pulumi CLI and the Kubernetes resource provider,
# both compiled from Go modules (no plugin downloads, no pulumi-language-go:
# the program runs inline through the Automation API). The provider is
# installed into a PULUMI_HOME inside the cache.
#
# Usage: scripts/e2e-tools.sh            build what is missing, print the env
#        source <(scripts/e2e-tools.sh --env)   only print the env lines
#
# Cache: $MMLLM_E2E_CACHE, default ${XDG_CACHE_HOME:-$HOME/.cache}/mmllm-e2e.
# A cold build takes many minutes (the CLI alone compiles a few thousand
# packages); a warm run only checks the stamps.
set -euo pipefail

PULUMI_VERSION="${PULUMI_VERSION:-v3.274.1}"
# The provider module version the proxy serves (pulumi-kubernetes has no
# tagged provider/v4 module), and the plugin version it is installed as: the
# version the project's SDK (pulumi-kubernetes/sdk/v4 in go.mod) asks for.
K8S_MODULE_VERSION="${K8S_MODULE_VERSION:-v4.0.0-20260115033456-f47bc2d6f199}"
repo="$(cd "$(dirname "$0")/.." && pwd)"
K8S_PLUGIN_VERSION="${K8S_PLUGIN_VERSION:-$(cd "$repo" && go list -m -f '{{.Version}}' github.com/pulumi/pulumi-kubernetes/sdk/v4 | sed 's/^v//')}"

CACHE="${MMLLM_E2E_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mmllm-e2e}"
BIN="$CACHE/bin"
# The provider is built outside BIN: the engine prefers a plugin on PATH to
# the installed one (with a warning), and the installed one is the point.
PROVIDER_DIR="$CACHE/provider"
export PULUMI_HOME="$CACHE/pulumi-home"
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true

print_env() {
	echo "export PATH=\"$BIN:\$PATH\""
	echo "export PULUMI_HOME=\"$PULUMI_HOME\""
	echo "export PULUMI_SKIP_UPDATE_CHECK=true"
	echo "export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true"
	echo "export MMLLM_E2E_K8S_VERSION=\"$K8S_PLUGIN_VERSION\""
}

if [ "${1:-}" = "--env" ]; then
	print_env
	exit 0
fi

mkdir -p "$BIN" "$PROVIDER_DIR" "$PULUMI_HOME"

# stamp_ok PATH WANT: whether the binary PATH was built for the stamp WANT.
stamp_ok() { [ -x "$1" ] && [ "$(cat "$1.stamp" 2>/dev/null)" = "$2" ]; }

# A throwaway module per tool, so the two dependency graphs never meet.
new_module() {
	local dir="$1" name="$2"
	mkdir -p "$dir"
	if [ ! -f "$dir/go.mod" ]; then
		(cd "$dir" && go mod init "$name" >/dev/null 2>&1)
	fi
}

build_pulumi() {
	local want="pulumi $PULUMI_VERSION"
	if stamp_ok "$BIN/pulumi" "$want"; then
		echo "e2e-tools: pulumi $PULUMI_VERSION cached at $BIN/pulumi" >&2
		return
	fi
	echo "e2e-tools: building pulumi $PULUMI_VERSION (cold: about 10 minutes)" >&2
	local start=$SECONDS src="$CACHE/src/pulumi-cli"
	new_module "$src" mmllm-e2e/pulumi-cli
	(
		cd "$src"
		go get "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi@$PULUMI_VERSION"
		go build -o "$BIN/pulumi" \
			-ldflags "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_VERSION" \
			github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
	)
	echo "$want" >"$BIN/pulumi.stamp"
	echo "e2e-tools: pulumi built in $((SECONDS - start))s" >&2
}

build_kubernetes() {
	local want="kubernetes $K8S_MODULE_VERSION as $K8S_PLUGIN_VERSION"
	local bin="$PROVIDER_DIR/pulumi-resource-kubernetes"
	if stamp_ok "$bin" "$want"; then
		echo "e2e-tools: kubernetes provider $K8S_PLUGIN_VERSION cached at $bin" >&2
		return
	fi
	echo "e2e-tools: building the kubernetes provider $K8S_MODULE_VERSION (cold: several minutes)" >&2
	local start=$SECONDS src="$CACHE/src/kubernetes"
	local mod="github.com/pulumi/pulumi-kubernetes/provider/v4"
	new_module "$src" mmllm-e2e/kubernetes
	(
		cd "$src"
		go get "$mod/cmd/pulumi-resource-kubernetes@$K8S_MODULE_VERSION"
		# The module as published lacks schema-embed.json and
		# terraform-mapping-embed.json, which the provider's Makefile makes
		# with its own generate.go (`VERSION=... go run generate.go` in the
		# command's folder). Build from a writable copy of the module with
		# those files added, the generator compiled in this module's graph
		# (the copy's own go.mod replaces the SDK with a ../sdk it lacks).
		local moddir cmddir
		moddir="$(go list -m -f '{{.Dir}}' "$mod")"
		rm -rf "$src/provider" "$src/gen"
		cp -r "$moddir" "$src/provider"
		chmod -R u+w "$src/provider"
		cmddir="$src/provider/cmd/pulumi-resource-kubernetes"
		mkdir -p "$src/gen"
		cp "$cmddir/generate.go" "$src/gen/generate.go"
		go build -o "$src/gen/generate" ./gen/generate.go
		(cd "$cmddir" && VERSION="$K8S_PLUGIN_VERSION" "$src/gen/generate")
		go mod edit -replace "$mod=./provider"
		go build -o "$bin" \
			-ldflags "-X $mod/pkg/version.Version=$K8S_PLUGIN_VERSION" \
			"$mod/cmd/pulumi-resource-kubernetes"
	)
	echo "$want" >"$bin.stamp"
	echo "e2e-tools: kubernetes provider built in $((SECONDS - start))s" >&2
}

install_kubernetes() {
	local plugdir="$PULUMI_HOME/plugins/resource-kubernetes-v$K8S_PLUGIN_VERSION"
	local bin="$PROVIDER_DIR/pulumi-resource-kubernetes"
	if [ -x "$plugdir/pulumi-resource-kubernetes" ] && cmp -s "$plugdir/pulumi-resource-kubernetes" "$bin"; then
		return
	fi
	"$BIN/pulumi" plugin install resource kubernetes "$K8S_PLUGIN_VERSION" --file "$bin" --reinstall >&2
}

build_pulumi
build_kubernetes
install_kubernetes
print_env
