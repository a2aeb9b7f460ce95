package workflows

import (
	"fmt"
	"strings"

	"mvdan.cc/sh/v3/expand"
	"mvdan.cc/sh/v3/syntax"
)

// SimpleCommand is one simple shell command, expanded: the variable
// assignments that prefix it and its words.
type SimpleCommand struct {
	// Env holds the command's prefix assignments (NAME=value ...).
	Env map[string]string
	// Args are the command's words after expansion and field splitting.
	Args []string
}

// ParseSimpleCommand parses src as POSIX shell (mvdan.cc/sh) and expands
// it as /bin/sh would, with vars as the only variables set. src must be
// exactly one simple command: a list, pipeline, redirection or compound
// command is an error, and so are a syntax error (an unterminated quote),
// a variable vars lacks (set -u) and command or process substitution, so
// that a check never passes on a command it did not understand.
func ParseSimpleCommand(src string, vars map[string]string) (SimpleCommand, error) {
	f, err := syntax.NewParser(syntax.Variant(syntax.LangPOSIX)).Parse(strings.NewReader(src), "")
	if err != nil {
		return SimpleCommand{}, fmt.Errorf("shell %q: %w", src, err)
	}
	if len(f.Stmts) != 1 {
		return SimpleCommand{}, fmt.Errorf("shell %q: want one command, got %d", src, len(f.Stmts))
	}
	st := f.Stmts[0]
	call, ok := st.Cmd.(*syntax.CallExpr)
	if !ok || st.Negated || st.Background || st.Coprocess || len(st.Redirs) > 0 {
		return SimpleCommand{}, fmt.Errorf("shell %q: not a simple command", src)
	}
	cfg := &expand.Config{Env: expand.ListEnviron(envPairs(vars)...), NoUnset: true}
	cmd := SimpleCommand{Env: map[string]string{}}
	for _, a := range call.Assigns {
		if a.Append || a.Naked || a.Index != nil || a.Array != nil {
			return SimpleCommand{}, fmt.Errorf("shell %q: assignment to %s is not NAME=value", src, a.Name.Value)
		}
		v := ""
		if a.Value != nil {
			if v, err = expand.Literal(cfg, a.Value); err != nil {
				return SimpleCommand{}, fmt.Errorf("shell %q: %s: %w", src, a.Name.Value, err)
			}
		}
		cmd.Env[a.Name.Value] = v
	}
	if cmd.Args, err = expand.Fields(cfg, call.Args...); err != nil {
		return SimpleCommand{}, fmt.Errorf("shell %q: %w", src, err)
	}
	return cmd, nil
}

// envPairs returns vars as NAME=value strings, as an environment lists them.
func envPairs(vars map[string]string) []string {
	out := make([]string, 0, len(vars))
	for k, v := range vars {
		out = append(out, k+"="+v)
	}
	return out
}
