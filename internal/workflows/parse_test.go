package workflows

import (
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/stretchr/testify/require"
)

// TestDockerfileReadingFailsClosed checks the wrappers around BuildKit and
// mvdan.cc/sh: what they do not understand fails the check, never passes.
func TestDockerfileReadingFailsClosed(t *testing.T) {
	for _, tc := range []struct{ name, src, want string }{
		{"empty", "# nothing\n", "no instructions"},
		{"no FROM", "ARG X=1\n", "no FROM"},
		{"instruction before FROM", "RUN true\nFROM scratch\n", "no build stage"},
		{"undefined ARG in FROM", "FROM ${NOPE}\n", `variables ["NOPE"] are not defined`},
		{"empty continuation line", "FROM scratch\nENV A=1 \\\n\n    B=2\n", "BuildKit warns"},
		{"inconsistent casing", "FROM scratch as x\n", "FromAsCasing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseDockerfile(tc.src)
			require.ErrorContains(t, err, tc.want)
		})
	}

	df, err := ParseDockerfile("ARG BASE=alpine\nFROM ${BASE} AS b\nENV A=1 B=\"two words\"\nENV C=${A}-x\nCMD serve\n")
	require.NoError(t, err)
	img, ok := df.Stage("b")
	require.True(t, ok)
	require.Equal(t, "alpine", img.Base)
	env, err := df.Env(img, nil)
	require.NoError(t, err)
	require.Equal(t, map[string]string{"A": "1", "B": "two words", "C": "1-x"}, env)
	cmd, ok := Last[*instructions.CmdCommand](img)
	require.True(t, ok)
	_, err = df.ExecForm(cmd)
	require.ErrorContains(t, err, "not in exec (JSON array) form")

	vars := map[string]string{"V": "v1"}
	for _, bad := range []string{`"open`, `'open`, `${V`, `$UNDEFINED`, "$(date)", "`date`"} {
		_, err := df.Expand(bad, vars)
		require.Error(t, err, "Expand %s", bad)
		_, err = ParseSimpleCommand("echo "+bad, vars)
		require.Error(t, err, "ParseSimpleCommand echo %s", bad)
	}
	for _, bad := range []string{"a && b", "a | b", "a > f", "a; b", "(a)", "! a", "a &"} {
		_, err := ParseSimpleCommand(bad, vars)
		require.Error(t, err, bad)
	}
	cmdline, err := ParseSimpleCommand(`CGO_ENABLED=0 X="$V" go build -ldflags "-s -X m.v=${V}" -o /o '$V'`, vars)
	require.NoError(t, err)
	require.Equal(t, map[string]string{"CGO_ENABLED": "0", "X": "v1"}, cmdline.Env)
	require.Equal(t, []string{"go", "build", "-ldflags", "-s -X m.v=v1", "-o", "/o", "$V"}, cmdline.Args)
}

func TestEval(t *testing.T) {
	ctx := Context{
		"github": map[string]any{"event_name": "push", "ref": "refs/tags/v1.2.3"},
		"inputs": map[string]any{"stack": "dev", "smoke": true, "n": 3.0},
		"steps":  map[string]any{"up": map[string]any{"outcome": "success"}},
	}
	for _, tc := range []struct {
		expr string
		want any
	}{
		{"github.event_name == 'push'", true},
		{"github.event_name == 'PUSH'", true}, // string comparison ignores case
		{"github.event_name == 'push' && 'up' || 'preview'", "up"},
		{"github.event_name == 'pull_request' && 'up' || 'preview'", "preview"},
		{"startsWith(github.ref, 'refs/tags/v')", true},
		{"!startsWith(github.ref, 'refs/heads/')", true},
		{"inputs.smoke && steps.up.outcome == 'success'", true},
		{"inputs.missing", nil},
		{"inputs.missing || 'default'", "default"},
		{"format('{0}-preview', inputs.stack)", "dev-preview"},
		{"${{ inputs.n > 2 }}", true},
		{"inputs.n == '3'", true}, // mixed types compare as numbers
		{"contains('abc', 'B')", true},
		{"success() && !failure()", true},
		{"github['event_name']", "push"},
	} {
		got, err := Eval(tc.expr, ctx)
		require.NoError(t, err, tc.expr)
		require.Equal(t, tc.want, got, tc.expr)
	}
	s, err := Interpolate("pulumi-${{ inputs.stack }}-${{ github.event_name }}", ctx)
	require.NoError(t, err)
	require.Equal(t, "pulumi-dev-push", s)
	ok, err := EvalBool("", ctx)
	require.NoError(t, err)
	require.True(t, ok, "no if: runs")
	for _, bad := range []string{"github.ref ==", "hashFiles('x')", "${{ github.ref", "fromJSON('1', 2)"} {
		_, err := Eval(bad, ctx)
		require.Error(t, err, bad)
	}
}
