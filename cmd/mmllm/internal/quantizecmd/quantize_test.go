package quantizecmd

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/mobile-mm-llm/mobile-mm-llm/engine/gguf"
	"github.com/mobile-mm-llm/mobile-mm-llm/engine/quantize"
	"github.com/stretchr/testify/require"
)

const fixture = "../../../../testdata/llamacpp/tiny-llama-gpt2vocab-f32.gguf"

// execute runs the command with args; terminal decides whether stderr
// counts as a terminal.
func execute(t *testing.T, terminal bool, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	cmd := newCmd(func(io.Writer) bool { return terminal })
	var out, errOut bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs(args)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err = cmd.ExecuteContext(context.Background())
	return out.String(), errOut.String(), err
}

func TestQuantizePrintsSummary(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out.gguf")
	stdout, stderr, err := execute(t, false, fixture, out, "--recipe", "int4", "--threads", "2")
	require.NoError(t, err)
	require.Empty(t, stderr, "no progress bar when stderr is not a terminal")
	require.Regexp(t, `(?m)^blk\.0\.ffn_up\.weight\s+64×128\s+f32 → int4\s+4\.50\s`, stdout)
	require.Regexp(t, `(?m)^recipe int4: 20 tensors, 3290496 parameters`, stdout)
	require.Contains(t, stdout, "32.00 → 4.50 bits per weight")
	require.Contains(t, stdout, "wrote "+out)
	f, err := gguf.Open(out)
	require.NoError(t, err)
	defer f.Close()
	name, err := f.String(quantize.RecipeKey)
	require.NoError(t, err)
	require.Equal(t, "int4", name)
}

func TestQuantizeJSON(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out.gguf")
	stdout, _, err := execute(t, false, fixture, out, "--recipe=int8", "--json")
	require.NoError(t, err)
	var sum quantize.Summary
	require.NoError(t, json.Unmarshal([]byte(stdout), &sum))
	require.Equal(t, "int8", sum.Recipe)
	require.Equal(t, out, sum.Output)
	require.Len(t, sum.Tensors, 20)
	require.Equal(t, "int8", sum.Tensors[0].Out)
	require.InDelta(t, 8.25, sum.BitsPerWeight, 0.05)
}

func TestProgressBarOnlyOnTerminalAndNotQuiet(t *testing.T) {
	dir := t.TempDir()
	_, stderr, err := execute(t, true, fixture, filepath.Join(dir, "a.gguf"), "--recipe", "int8")
	require.NoError(t, err)
	require.Contains(t, stderr, "token_embd.weight")
	require.Contains(t, stderr, "%")

	_, stderr, err = execute(t, true, fixture, filepath.Join(dir, "b.gguf"), "--recipe", "int8", "--quiet")
	require.NoError(t, err)
	require.Empty(t, stderr)
}

func TestQuantizeErrors(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out.gguf")
	garbage := filepath.Join(dir, "garbage.gguf")
	require.NoError(t, os.WriteFile(garbage, []byte("GGUF but truncated"), 0o644))
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"no recipe", []string{fixture, out}, `required flag(s) "recipe" not set`},
		{"unknown recipe", []string{fixture, out, "--recipe", "int3"}, `unknown recipe "int3"`},
		{"one argument", []string{fixture, "--recipe", "int2"}, "accepts 2 arg(s), received 1"},
		{"unknown flag", []string{fixture, out, "--recipe", "int2", "--fast"}, "unknown flag: --fast"},
		{"negative threads", []string{fixture, out, "--recipe", "int2", "--threads", "-1"}, "must not be negative"},
		{"missing input", []string{filepath.Join(dir, "missing.gguf"), out, "--recipe", "int2"}, "no such file"},
		{"unreadable input", []string{garbage, out, "--recipe", "int2"}, "truncated header"},
		{"output is input", []string{fixture, fixture, "--recipe", "int2"}, "is the input file"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := execute(t, false, c.args...)
			require.ErrorContains(t, err, c.want)
			_, statErr := os.Stat(out)
			require.ErrorIs(t, statErr, os.ErrNotExist)
		})
	}
}
