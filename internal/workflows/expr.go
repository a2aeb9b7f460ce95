package workflows

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/rhysd/actionlint"
)

// Context is what an expression can read: the top-level contexts (github,
// inputs, matrix, steps...) as nested maps of string, float64, bool and
// nil values.
type Context map[string]any

// Eval evaluates a GitHub Actions expression (the text of an if: or the
// inside of ${{ }}; a surrounding ${{ }} is removed) against ctx, with
// GitHub's semantics: && and || return an operand, == compares strings
// case-insensitively and coerces mixed types to numbers. The status
// functions report a run where every step so far succeeded.
func Eval(expr string, ctx Context) (any, error) {
	src := strings.TrimSpace(expr)
	if inner, ok := strings.CutPrefix(src, "${{"); ok {
		src, ok = strings.CutSuffix(inner, "}}")
		if !ok {
			return nil, fmt.Errorf("expression %q: ${{ without }}", expr)
		}
	}
	node, perr := actionlint.NewExprParser().Parse(actionlint.NewExprLexer(src + "}}"))
	if perr != nil {
		return nil, fmt.Errorf("expression %q: %s", expr, perr.Message)
	}
	v, err := eval(node, ctx)
	if err != nil {
		return nil, fmt.Errorf("expression %q: %w", expr, err)
	}
	return v, nil
}

// EvalBool evaluates an if: condition; an empty one is true, as GitHub
// runs a job or step without if: when everything before it succeeded.
func EvalBool(cond string, ctx Context) (bool, error) {
	if strings.TrimSpace(cond) == "" {
		return true, nil
	}
	v, err := Eval(cond, ctx)
	if err != nil {
		return false, err
	}
	return truthy(v), nil
}

// Interpolate replaces every ${{ }} in s with its value as a string.
func Interpolate(s string, ctx Context) (string, error) {
	var out strings.Builder
	for {
		start := strings.Index(s, "${{")
		if start < 0 {
			out.WriteString(s)
			return out.String(), nil
		}
		end := strings.Index(s[start:], "}}")
		if end < 0 {
			return "", fmt.Errorf("interpolate %q: ${{ without }}", s)
		}
		v, err := Eval(s[start:start+end+2], ctx)
		if err != nil {
			return "", err
		}
		out.WriteString(s[:start])
		out.WriteString(toString(v))
		s = s[start+end+2:]
	}
}

func eval(n actionlint.ExprNode, ctx Context) (any, error) {
	switch n := n.(type) {
	case *actionlint.VariableNode:
		return lookup(ctx, n.Name), nil
	case *actionlint.StringNode:
		return n.Value, nil
	case *actionlint.BoolNode:
		return n.Value, nil
	case *actionlint.IntNode:
		return float64(n.Value), nil
	case *actionlint.FloatNode:
		return n.Value, nil
	case *actionlint.NullNode:
		return nil, nil
	case *actionlint.ObjectDerefNode:
		recv, err := eval(n.Receiver, ctx)
		if err != nil {
			return nil, err
		}
		return lookup(recv, n.Property), nil
	case *actionlint.IndexAccessNode:
		recv, err := eval(n.Operand, ctx)
		if err != nil {
			return nil, err
		}
		idx, err := eval(n.Index, ctx)
		if err != nil {
			return nil, err
		}
		if l, ok := recv.([]any); ok {
			i := int(toNumber(idx))
			if i < 0 || i >= len(l) {
				return nil, nil
			}
			return l[i], nil
		}
		return lookup(recv, toString(idx)), nil
	case *actionlint.NotOpNode:
		v, err := eval(n.Operand, ctx)
		if err != nil {
			return nil, err
		}
		return !truthy(v), nil
	case *actionlint.LogicalOpNode:
		l, err := eval(n.Left, ctx)
		if err != nil {
			return nil, err
		}
		if (n.Kind == actionlint.LogicalOpNodeKindAnd) != truthy(l) {
			return l, nil // false && x is false; true || x is true
		}
		return eval(n.Right, ctx)
	case *actionlint.CompareOpNode:
		l, err := eval(n.Left, ctx)
		if err != nil {
			return nil, err
		}
		r, err := eval(n.Right, ctx)
		if err != nil {
			return nil, err
		}
		return compare(n.Kind, l, r)
	case *actionlint.FuncCallNode:
		return call(n, ctx)
	default:
		return nil, fmt.Errorf("unsupported expression node %T", n)
	}
}

func call(n *actionlint.FuncCallNode, ctx Context) (any, error) {
	args := make([]any, len(n.Args))
	for i, a := range n.Args {
		v, err := eval(a, ctx)
		if err != nil {
			return nil, err
		}
		args[i] = v
	}
	want := func(k int) error {
		if len(args) != k {
			return fmt.Errorf("%s() takes %d arguments, got %d", n.Callee, k, len(args))
		}
		return nil
	}
	fold := func(i int) string { return strings.ToLower(toString(args[i])) }
	switch strings.ToLower(n.Callee) {
	case "success", "always":
		return true, want(0)
	case "failure", "cancelled":
		return false, want(0)
	case "startswith":
		return strings.HasPrefix(fold(0), fold(1)), want(2)
	case "endswith":
		return strings.HasSuffix(fold(0), fold(1)), want(2)
	case "contains":
		if err := want(2); err != nil {
			return nil, err
		}
		if l, ok := args[0].([]any); ok {
			for _, x := range l {
				if eq, _ := compare(actionlint.CompareOpNodeKindEq, x, args[1]); eq == true {
					return true, nil
				}
			}
			return false, nil
		}
		return strings.Contains(fold(0), fold(1)), nil
	case "format":
		if len(args) == 0 {
			return nil, fmt.Errorf("format() needs a format string")
		}
		out := toString(args[0])
		for i, a := range args[1:] {
			out = strings.ReplaceAll(out, "{"+strconv.Itoa(i)+"}", toString(a))
		}
		return out, nil
	default:
		return nil, fmt.Errorf("function %s() is not supported", n.Callee)
	}
}

func compare(kind actionlint.CompareOpNodeKind, l, r any) (any, error) {
	ls, lok := l.(string)
	rs, rok := r.(string)
	var c int
	switch {
	case lok && rok:
		c = strings.Compare(strings.ToLower(ls), strings.ToLower(rs))
	default:
		ln, rn := toNumber(l), toNumber(r)
		if math.IsNaN(ln) || math.IsNaN(rn) {
			return kind == actionlint.CompareOpNodeKindNotEq, nil
		}
		switch {
		case ln < rn:
			c = -1
		case ln > rn:
			c = 1
		}
	}
	switch kind {
	case actionlint.CompareOpNodeKindEq:
		return c == 0, nil
	case actionlint.CompareOpNodeKindNotEq:
		return c != 0, nil
	case actionlint.CompareOpNodeKindLess:
		return c < 0, nil
	case actionlint.CompareOpNodeKindLessEq:
		return c <= 0, nil
	case actionlint.CompareOpNodeKindGreater:
		return c > 0, nil
	case actionlint.CompareOpNodeKindGreaterEq:
		return c >= 0, nil
	default:
		return nil, fmt.Errorf("unknown comparison %v", kind)
	}
}

// lookup reads a property case-insensitively, as GitHub does; a missing
// one is null.
func lookup(v any, name string) any {
	switch m := v.(type) {
	case Context:
		return lookup(map[string]any(m), name)
	case map[string]any:
		if x, ok := m[name]; ok {
			return x
		}
		for k, x := range m {
			if strings.EqualFold(k, name) {
				return x
			}
		}
	}
	return nil
}

func truthy(v any) bool {
	switch v := v.(type) {
	case nil:
		return false
	case bool:
		return v
	case float64:
		return v != 0 && !math.IsNaN(v)
	case string:
		return v != ""
	default:
		return true
	}
}

func toNumber(v any) float64 {
	switch v := v.(type) {
	case nil:
		return 0
	case bool:
		if v {
			return 1
		}
		return 0
	case float64:
		return v
	case string:
		if strings.TrimSpace(v) == "" {
			return 0
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			return math.NaN()
		}
		return f
	default:
		return math.NaN()
	}
}

func toString(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case bool:
		return strconv.FormatBool(v)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	default:
		return fmt.Sprint(v)
	}
}
