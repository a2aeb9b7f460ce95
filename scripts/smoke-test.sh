#!/usr/bin/env bash
# Smoke test of a deployed inference server: GET /health and /ready must
# answer 200, and one POST /v1/inference (task caption, a tiny inline PNG,
# the bearer token from $MMLLM_API_TOKEN) must answer 200 with a non-empty
# "text". Exits 0 when all three pass, 1 on the first failure, 2 on bad usage.
#
#   MMLLM_API_TOKEN=... scripts/smoke-test.sh https://api.example.com
#
# Environment:
#   MMLLM_API_TOKEN     bearer token (required; read from the environment so
#                       that it never appears in a process listing)
#   SMOKE_ATTEMPTS      tries for /health and /ready while a rollout settles (default 10)
#   SMOKE_WAIT          seconds between those tries (default 6)
#   SMOKE_TIMEOUT       seconds allowed for each request (default 60)
#   SMOKE_MAX_TOKENS    token budget of the caption (default 16)
#   SMOKE_INSECURE_TLS  1: accept an untrusted certificate (staging issuers only)
# Needs bash, curl and jq (all on GitHub's runners). docs/ci.md describes it.
set -euo pipefail

# An 8x8 RGB gradient, 85 bytes of PNG.
readonly PNG_B64='iVBORw0KGgoAAAANSUhEUgAAAAgAAAAICAIAAABLbSncAAAAHElEQVR42mJhYGhQYGDARCwgAhsYnBKAAAAA//9qxwJhw7yVugAAAABJRU5ErkJggg=='

usage() {
	echo "usage: MMLLM_API_TOKEN=TOKEN $0 URL   (URL: http(s)://host[:port][/prefix])" >&2
	exit 2
}

fail() {
	echo "smoke: FAIL: $*" >&2
	exit 1
}

# positive_int NAME VALUE: VALUE must be a whole number above zero.
positive_int() {
	[[ $2 =~ ^[1-9][0-9]*$ ]] || {
		echo "smoke: $1 must be a whole number above zero, not '$2'" >&2
		exit 2
	}
}

[[ $# -eq 1 ]] || usage
base=${1%/}
[[ $base =~ ^https?://[^/]+ ]] || usage
[[ -n ${MMLLM_API_TOKEN:-} ]] || {
	echo "smoke: MMLLM_API_TOKEN is empty; set it to one of the stack's API tokens" >&2
	exit 2
}
attempts=${SMOKE_ATTEMPTS:-10}
wait_s=${SMOKE_WAIT:-6}
timeout_s=${SMOKE_TIMEOUT:-60}
max_tokens=${SMOKE_MAX_TOKENS:-16}
positive_int SMOKE_ATTEMPTS "$attempts"
[[ $wait_s =~ ^[0-9]+$ ]] || {
	echo "smoke: SMOKE_WAIT must be a whole number of seconds, not '$wait_s'" >&2
	exit 2
}
positive_int SMOKE_TIMEOUT "$timeout_s"
positive_int SMOKE_MAX_TOKENS "$max_tokens"
for tool in curl jq; do
	command -v "$tool" >/dev/null || {
		echo "smoke: $tool is not installed" >&2
		exit 2
	}
done

curl_opts=(--silent --show-error --max-time "$timeout_s" --proto '=http,https')
[[ ${SMOKE_INSECURE_TLS:-} == 1 ]] && curl_opts+=(--insecure)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
body=$work/body

# status METHOD PATH [curl args...]: prints the HTTP status ("000" when no
# answer came) and leaves the body in $body.
status() {
	local method=$1 path=$2
	shift 2
	curl "${curl_opts[@]}" --request "$method" --output "$body" --write-out '%{http_code}' "$@" "$base$path" || true
}

# expect_200 PATH: GET PATH until it answers 200, at most $attempts times.
expect_200() {
	local path=$1 code i
	for ((i = 1; i <= attempts; i++)); do
		code=$(status GET "$path")
		if [[ $code == 200 ]]; then
			echo "smoke: GET $path: 200"
			return 0
		fi
		echo "smoke: GET $path: $code (try $i of $attempts)" >&2
		if ((i < attempts)); then
			sleep "$wait_s"
		fi
	done
	fail "GET $base$path answered $code, not 200: $(head -c 300 "$body" 2>/dev/null)"
}

expect_200 /health
expect_200 /ready

# The header goes through a file so that the token is not in argv.
auth=$work/auth
(
	umask 077
	printf 'Authorization: Bearer %s\n' "$MMLLM_API_TOKEN" >"$auth"
)
jq -n --arg image "$PNG_B64" --argjson max "$max_tokens" \
	'{task: "caption", image: $image, max_tokens: $max}' >"$work/request.json"
code=$(status POST /v1/inference --header @"$auth" --header 'Content-Type: application/json' \
	--data-binary @"$work/request.json")
[[ $code == 200 ]] || fail "POST $base/v1/inference answered $code, not 200: $(head -c 300 "$body")"
text=$(jq -er 'if (.text | type) == "string" and (.text | test("\\S")) then .text else error("no text") end' "$body" 2>/dev/null) ||
	fail "POST $base/v1/inference answered 200 without a non-empty \"text\": $(head -c 300 "$body")"
echo "smoke: POST /v1/inference (caption): 200, $(jq -r '.model // "?"' "$body"): ${text:0:80}"
echo "smoke: OK $base"
