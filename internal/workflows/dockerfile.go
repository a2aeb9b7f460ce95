// Package workflows checks the repository's delivery files: the Dockerfile,
// the GitHub workflows (.github/workflows) and the deployment smoke test
// (scripts/smoke-test.sh). Its tests are the checks; this file holds the
// small Dockerfile parser they use (no Docker engine or BuildKit is needed),
// shell.go the shell word splitting and expr.go a GitHub Actions expression
// evaluator.
package workflows

import (
	"bufio"
	"encoding/json"
	"fmt"
	"maps"
	"strings"
)

// Instruction is one Dockerfile instruction, its continuation lines joined.
type Instruction struct {
	// Keyword is the instruction in upper case (FROM, RUN, COPY...).
	Keyword string
	// Flags are the leading --name[=value] options, in order.
	Flags []Flag
	// Args is the rest of the instruction, trimmed.
	Args string
	// Line is the 1-based line the instruction starts on.
	Line int
}

// Flag is one --name[=value] option of an instruction.
type Flag struct {
	// Name is the option's name without the dashes.
	Name string
	// Value is what follows '=' ("" when there is none).
	Value string
}

// Stage is one build stage: a FROM and the instructions up to the next.
type Stage struct {
	// Name is the stage's AS name ("" when it has none).
	Name string
	// Base is the base image, with global ARG defaults expanded.
	Base string
	// From is the FROM instruction itself.
	From Instruction
	// Instructions are the stage's instructions after FROM.
	Instructions []Instruction
}

// Dockerfile is a parsed Dockerfile.
type Dockerfile struct {
	// GlobalArgs are the defaults of the ARGs declared before the first
	// FROM ("" for an ARG without one).
	GlobalArgs map[string]string
	// Stages are the build stages in order; the last one is the image.
	Stages []Stage
}

// ParseDockerfile parses src with the default escape character '\':
// comment lines are dropped (also inside continuations), continuation
// lines joined, and each instruction split into keyword, flags and
// arguments. Heredocs are not supported.
func ParseDockerfile(src string) (*Dockerfile, error) {
	instrs, err := splitInstructions(src)
	if err != nil {
		return nil, err
	}
	df := &Dockerfile{GlobalArgs: map[string]string{}}
	for _, in := range instrs {
		switch {
		case in.Keyword == "FROM":
			st, err := df.newStage(in)
			if err != nil {
				return nil, err
			}
			df.Stages = append(df.Stages, st)
		case len(df.Stages) == 0 && in.Keyword == "ARG":
			name, def, _ := strings.Cut(in.Args, "=")
			df.GlobalArgs[strings.TrimSpace(name)] = unquote(strings.TrimSpace(def))
		case len(df.Stages) == 0:
			return nil, fmt.Errorf("dockerfile line %d: %s before the first FROM (only ARG may come before it)", in.Line, in.Keyword)
		default:
			last := &df.Stages[len(df.Stages)-1]
			last.Instructions = append(last.Instructions, in)
		}
	}
	if len(df.Stages) == 0 {
		return nil, fmt.Errorf("dockerfile: no FROM instruction")
	}
	return df, nil
}

func (df *Dockerfile) newStage(in Instruction) (Stage, error) {
	words, err := ShellWords(in.Args, df.GlobalArgs)
	if err != nil {
		return Stage{}, fmt.Errorf("dockerfile line %d: FROM: %w", in.Line, err)
	}
	st := Stage{From: in}
	switch {
	case len(words) == 1:
	case len(words) == 3 && strings.EqualFold(words[1], "AS"):
		st.Name = words[2]
	default:
		return Stage{}, fmt.Errorf("dockerfile line %d: FROM %q: want IMAGE [AS NAME]", in.Line, in.Args)
	}
	st.Base = words[0]
	return st, nil
}

// splitInstructions joins continuation lines and splits each instruction
// into keyword, flags and arguments.
func splitInstructions(src string) ([]Instruction, error) {
	var out []Instruction
	var cur strings.Builder
	start := 0
	sc := bufio.NewScanner(strings.NewReader(src))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), " \t\r")
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "#") || trimmed == "" {
			continue
		}
		if cur.Len() == 0 {
			start = n
		}
		if body, ok := strings.CutSuffix(line, `\`); ok {
			cur.WriteString(body)
			continue
		}
		cur.WriteString(line)
		in, err := parseInstruction(cur.String(), start)
		if err != nil {
			return nil, err
		}
		out = append(out, in)
		cur.Reset()
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("dockerfile: %w", err)
	}
	if cur.Len() > 0 {
		return nil, fmt.Errorf("dockerfile line %d: the file ends inside a continued instruction", start)
	}
	return out, nil
}

func parseInstruction(text string, line int) (Instruction, error) {
	text = strings.TrimSpace(text)
	keyword, rest, _ := strings.Cut(text, " ")
	in := Instruction{Keyword: strings.ToUpper(keyword), Line: line}
	if in.Keyword == "" || strings.ContainsAny(in.Keyword, "\t=") {
		return Instruction{}, fmt.Errorf("dockerfile line %d: %q is not an instruction", line, text)
	}
	rest = strings.TrimSpace(rest)
	for strings.HasPrefix(rest, "--") {
		flag, tail, _ := strings.Cut(rest, " ")
		name, value, _ := strings.Cut(strings.TrimPrefix(flag, "--"), "=")
		in.Flags = append(in.Flags, Flag{Name: name, Value: value})
		rest = strings.TrimSpace(tail)
	}
	if strings.Contains(rest, "<<") && (in.Keyword == "RUN" || in.Keyword == "COPY") {
		return Instruction{}, fmt.Errorf("dockerfile line %d: heredocs are not supported by this parser", line)
	}
	in.Args = rest
	return in, nil
}

// Flag returns the value of the instruction's first flag name, and whether
// it has one.
func (in Instruction) Flag(name string) (string, bool) {
	for _, f := range in.Flags {
		if f.Name == name {
			return f.Value, true
		}
	}
	return "", false
}

// ExecForm decodes arguments written in exec (JSON array) form.
func (in Instruction) ExecForm() ([]string, error) {
	var words []string
	if err := json.Unmarshal([]byte(in.Args), &words); err != nil {
		return nil, fmt.Errorf("dockerfile line %d: %s %s is not in exec (JSON array) form: %w", in.Line, in.Keyword, in.Args, err)
	}
	return words, nil
}

// All returns the stage's instructions of keyword, in order.
func (s Stage) All(keyword string) []Instruction {
	var out []Instruction
	for _, in := range s.Instructions {
		if in.Keyword == keyword {
			out = append(out, in)
		}
	}
	return out
}

// Last returns the stage's last instruction of keyword (the one in force
// for USER, CMD, ENTRYPOINT, HEALTHCHECK...), and whether there is one.
func (s Stage) Last(keyword string) (Instruction, bool) {
	all := s.All(keyword)
	if len(all) == 0 {
		return Instruction{}, false
	}
	return all[len(all)-1], true
}

// Args returns the build arguments in scope in the stage, with their
// defaults: global ARGs the stage redeclares (inheriting a global default
// when it gives none) and its own.
func (s Stage) Args(global map[string]string) map[string]string {
	out := map[string]string{}
	for _, in := range s.All("ARG") {
		name, def, hasDef := strings.Cut(in.Args, "=")
		name = strings.TrimSpace(name)
		if !hasDef {
			out[name] = global[name]
			continue
		}
		out[name] = unquote(strings.TrimSpace(def))
	}
	return out
}

// Env returns the stage's ENV assignments (the KEY=VALUE form), with vars
// expanded, later ones winning.
func (s Stage) Env(vars map[string]string) (map[string]string, error) {
	out := map[string]string{}
	for _, in := range s.All("ENV") {
		words, err := ShellWords(in.Args, merged(vars, out))
		if err != nil {
			return nil, fmt.Errorf("dockerfile line %d: ENV: %w", in.Line, err)
		}
		for _, w := range words {
			k, v, ok := strings.Cut(w, "=")
			if !ok {
				return nil, fmt.Errorf("dockerfile line %d: ENV %q: use the KEY=VALUE form", in.Line, w)
			}
			out[k] = v
		}
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

func merged(a, b map[string]string) map[string]string {
	out := maps.Clone(a)
	if out == nil {
		out = map[string]string{}
	}
	maps.Copy(out, b)
	return out
}

func unquote(s string) string {
	if len(s) >= 2 && (s[0] == '"' || s[0] == '\'') && s[len(s)-1] == s[0] {
		return s[1 : len(s)-1]
	}
	return s
}
