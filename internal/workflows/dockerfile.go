// Package workflows checks the repository's delivery files: the Dockerfile,
// the GitHub workflows (.github/workflows) and the deployment smoke test
// (scripts/smoke-test.sh). Its tests are the checks. This file reads the
// Dockerfile with BuildKit's own parser and expands its build arguments with
// BuildKit's own lexer (no Docker engine is needed); shell.go reads a RUN
// command with mvdan.cc/sh, and expr.go evaluates GitHub Actions expressions.
package workflows

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
)

// Stage is one build stage as BuildKit reads it, with its base image
// resolved.
type Stage struct {
	instructions.Stage
	// Base is the base image, with the global ARG defaults expanded.
	Base string
}

// Dockerfile is a Dockerfile parsed by BuildKit.
type Dockerfile struct {
	// GlobalArgs are the defaults of the ARGs declared before the first
	// FROM, expanded in order ("" for an ARG without one).
	GlobalArgs map[string]string
	// Stages are the build stages in order; the last one is the image.
	Stages []Stage

	escape rune
	// json records, by start line, the instructions written in exec
	// (JSON array) form.
	json map[int]bool
}

// ParseDockerfile parses src with BuildKit's parser into typed
// instructions and stages. A BuildKit warning or lint finding (empty
// continuation lines, inconsistent casing...) is an error, so that the
// checks never pass on a file BuildKit would complain about.
func ParseDockerfile(src string) (*Dockerfile, error) {
	res, err := parser.Parse(strings.NewReader(src))
	if err != nil {
		return nil, fmt.Errorf("dockerfile: %w", err)
	}
	var findings []string
	for _, w := range res.Warnings {
		findings = append(findings, w.Short)
	}
	lint := linter.New(&linter.Config{Warn: func(rule, _, _, msg string, loc []parser.Range) {
		findings = append(findings, fmt.Sprintf("%s: %s (line %d)", rule, msg, firstLine(loc)))
	}})
	stages, metaArgs, err := instructions.Parse(res.AST, lint)
	if err != nil {
		return nil, fmt.Errorf("dockerfile: %w", err)
	}
	if len(findings) > 0 {
		return nil, fmt.Errorf("dockerfile: BuildKit warns: %s", strings.Join(findings, "; "))
	}
	if len(stages) == 0 {
		return nil, fmt.Errorf("dockerfile: no FROM instruction")
	}
	df := &Dockerfile{GlobalArgs: map[string]string{}, escape: res.EscapeToken, json: map[int]bool{}}
	for _, n := range res.AST.Children {
		df.json[n.StartLine] = n.Attributes["json"]
	}
	for _, a := range metaArgs {
		for _, kv := range a.Args {
			v := ""
			if kv.Value != nil {
				if v, err = df.Expand(*kv.Value, df.GlobalArgs); err != nil {
					return nil, fmt.Errorf("dockerfile line %d: ARG %s: %w", Line(&a), kv.Key, err)
				}
			}
			df.GlobalArgs[kv.Key] = v
		}
	}
	for _, s := range stages {
		base, err := df.Expand(s.BaseName, df.GlobalArgs)
		if err != nil {
			return nil, fmt.Errorf("dockerfile line %d: FROM: %w", firstLine(s.Location), err)
		}
		df.Stages = append(df.Stages, Stage{Stage: s, Base: base})
	}
	return df, nil
}

// Expand expands the variables of word as BuildKit does for ENV, LABEL,
// ARG and FROM (quotes removed, $NAME and ${NAME...} replaced from vars).
// A variable vars lacks is an error, and so is command substitution,
// which Docker would leave as text: a check never passes on a word it
// did not understand.
func (df *Dockerfile) Expand(word string, vars map[string]string) (string, error) {
	if strings.Contains(word, "$(") || strings.Contains(word, "`") {
		return "", fmt.Errorf("%q: command substitution is not run by Docker", word)
	}
	out, unset, err := shell.NewLex(df.escape).ProcessWord(word, shell.EnvsFromSlice(envPairs(vars)))
	if err != nil {
		return "", fmt.Errorf("%q: %w", word, err)
	}
	if len(unset) > 0 {
		return "", fmt.Errorf("%q: variables %q are not defined", word, slices.Sorted(maps.Keys(unset)))
	}
	return out, nil
}

// Stage returns the stage named name.
func (df *Dockerfile) Stage(name string) (Stage, bool) {
	for _, s := range df.Stages {
		if s.Name == name {
			return s, true
		}
	}
	return Stage{}, false
}

// Args returns the build arguments in scope in stage s, with their
// defaults: global ARGs the stage redeclares (inheriting the global
// default when it gives none) and its own, each default expanded with
// the arguments declared before it.
func (df *Dockerfile) Args(s Stage) (map[string]string, error) {
	out := map[string]string{}
	for _, a := range All[*instructions.ArgCommand](s) {
		for _, kv := range a.Args {
			if kv.Value == nil {
				out[kv.Key] = df.GlobalArgs[kv.Key]
				continue
			}
			v, err := df.Expand(*kv.Value, out)
			if err != nil {
				return nil, fmt.Errorf("dockerfile line %d: ARG %s: %w", Line(a), kv.Key, err)
			}
			out[kv.Key] = v
		}
	}
	return out, nil
}

// Env returns stage s's ENV assignments, each instruction expanded with
// vars and the ENV before it, later ones winning.
func (df *Dockerfile) Env(s Stage, vars map[string]string) (map[string]string, error) {
	out := map[string]string{}
	for _, e := range All[*instructions.EnvCommand](s) {
		scope := maps.Clone(vars)
		if scope == nil {
			scope = map[string]string{}
		}
		maps.Copy(scope, out)
		for _, kv := range e.Env {
			v, err := df.Expand(kv.Value, scope)
			if err != nil {
				return nil, fmt.Errorf("dockerfile line %d: ENV %s: %w", Line(e), kv.Key, err)
			}
			out[kv.Key] = v
		}
	}
	return out, nil
}

// ExecForm returns the argv of a CMD, ENTRYPOINT, RUN, HEALTHCHECK CMD or
// VOLUME written in exec (JSON array) form, and an error for the shell form
// or another instruction.
func (df *Dockerfile) ExecForm(c instructions.Command) ([]string, error) {
	var argv []string
	switch c := c.(type) {
	case *instructions.CmdCommand:
		argv = c.CmdLine
	case *instructions.EntrypointCommand:
		argv = c.CmdLine
	case *instructions.RunCommand:
		argv = c.CmdLine
	case *instructions.VolumeCommand:
		argv = c.Volumes
	case *instructions.HealthCheckCommand:
		if len(c.Health.Test) == 0 || c.Health.Test[0] != "CMD" {
			return nil, fmt.Errorf("dockerfile line %d: HEALTHCHECK %q is not CMD in exec (JSON array) form", Line(c), c.Health.Test)
		}
		return c.Health.Test[1:], nil
	default:
		return nil, fmt.Errorf("dockerfile line %d: %s has no exec form", Line(c), c.Name())
	}
	if !df.json[Line(c)] {
		return nil, fmt.Errorf("dockerfile line %d: %s is not in exec (JSON array) form", Line(c), c.Name())
	}
	return argv, nil
}

// All returns stage s's instructions of type T, in order.
func All[T instructions.Command](s Stage) []T {
	var out []T
	for _, c := range s.Commands {
		if t, ok := c.(T); ok {
			out = append(out, t)
		}
	}
	return out
}

// Last returns stage s's last instruction of type T (the one in force for
// USER, CMD, ENTRYPOINT, HEALTHCHECK...), and whether there is one.
func Last[T instructions.Command](s Stage) (T, bool) {
	all := All[T](s)
	if len(all) == 0 {
		var zero T
		return zero, false
	}
	return all[len(all)-1], true
}

// Line returns the 1-based line an instruction starts on.
func Line(c instructions.Command) int {
	return firstLine(c.Location())
}

func firstLine(loc []parser.Range) int {
	if len(loc) == 0 {
		return 0
	}
	return loc[0].Start.Line
}
