package workflows

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseDockerfile(t *testing.T) {
	df, err := ParseDockerfile(`# syntax=docker/dockerfile:1
ARG BASE=golang:1.26
ARG UNSET

FROM --platform=$BUILDPLATFORM ${BASE} AS build
ARG VERSION=dev
ARG BASE
RUN --mount=type=cache,target=/a --mount=type=cache,target=/b \
    # a comment inside a continuation is dropped
    CGO_ENABLED=0 go build \

    -o /out/x ./cmd/x

from scratch
ENV A=1 B="two words"
ENV C=${A}-x
USER 1000:1000
CMD ["serve", "--flag"]
`)
	require.NoError(t, err)
	require.Equal(t, map[string]string{"BASE": "golang:1.26", "UNSET": ""}, df.GlobalArgs)
	require.Len(t, df.Stages, 2)

	b := df.Stages[0]
	require.Equal(t, "build", b.Name)
	require.Equal(t, "golang:1.26", b.Base)
	require.Equal(t, []Flag{{Name: "platform", Value: "$BUILDPLATFORM"}}, b.From.Flags)
	require.Equal(t, map[string]string{"VERSION": "dev", "BASE": "golang:1.26"}, b.Args(df.GlobalArgs))
	run, ok := b.Last("RUN")
	require.True(t, ok)
	require.Equal(t, 8, run.Line)
	require.Equal(t, []Flag{{"mount", "type=cache,target=/a"}, {"mount", "type=cache,target=/b"}}, run.Flags)
	words, err := ShellWords(run.Args, nil)
	require.NoError(t, err)
	require.Equal(t, []string{"CGO_ENABLED=0", "go", "build", "-o", "/out/x", "./cmd/x"}, words)

	img := df.Stages[1]
	require.Equal(t, "scratch", img.Base)
	require.Equal(t, "", img.Name)
	env, err := img.Env(nil)
	require.NoError(t, err)
	require.Equal(t, map[string]string{"A": "1", "B": "two words", "C": "1-x"}, env)
	cmd, _ := img.Last("CMD")
	argv, err := cmd.ExecForm()
	require.NoError(t, err)
	require.Equal(t, []string{"serve", "--flag"}, argv)
	user, _ := img.Last("USER")
	_, err = user.ExecForm()
	require.Error(t, err, "USER is not in exec form")
}

func TestParseDockerfileRejects(t *testing.T) {
	for _, tc := range []struct{ name, src, want string }{
		{"empty", "# nothing\n", "no FROM"},
		{"instruction before FROM", "RUN true\nFROM scratch\n", "RUN before the first FROM"},
		{"dangling continuation", "FROM scratch\nRUN a \\\n", "ends inside a continued instruction"},
		{"heredoc", "FROM scratch\nRUN <<EOF\necho\nEOF\n", "heredocs"},
		{"bad FROM", "FROM a b c d\n", "want IMAGE [AS NAME]"},
		{"undefined ARG in FROM", "FROM ${NOPE}\n", `variable "NOPE" is not defined`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseDockerfile(tc.src)
			require.ErrorContains(t, err, tc.want)
		})
	}
}

func TestShellWords(t *testing.T) {
	vars := map[string]string{"V": "v1", "EMPTY": "", "SP": "a b"}
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{`a  b	c`, []string{"a", "b", "c"}},
		{`-ldflags "-s -w -X main.version=${V}"`, []string{"-ldflags", "-s -w -X main.version=v1"}},
		{`'$V stays' "$V goes"`, []string{"$V stays", "v1 goes"}},
		{`x=$V/y`, []string{"x=v1/y"}},
		{`a\ b "q\"q" "\n"`, []string{"a b", `q"q`, `\n`}},
		{`"" x`, []string{"", "x"}},
		{`$EMPTY`, []string{""}},
		{`$SP`, []string{"a b"}}, // no field splitting of values: the Dockerfile checks never rely on it
		{`cost: 5$`, []string{"cost:", "5$"}},
	} {
		got, err := ShellWords(tc.in, vars)
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.want, got, tc.in)
	}
	for _, bad := range []string{`'open`, `"open`, `${V`, `$(date)`, "`date`", `$UNDEFINED`} {
		_, err := ShellWords(bad, vars)
		require.Error(t, err, bad)
	}
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
