package policies

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

// ruleCase is one input to one rule: the resources, the stack, and the
// logical names of the resources expected to violate (the stack's name for a
// stack-wide violation; none for a compliant input).
type ruleCase struct {
	name      string
	stack     StackInfo
	resources []Resource
	want      []string
	msg       string // a fragment every violation's message contains
}

// one is a case over a single resource.
func one(name string, r Resource, violates bool, msg string) ruleCase {
	c := ruleCase{name: name, stack: development, resources: []Resource{r}, msg: msg}
	if violates {
		c.want = []string{r.Name}
	}
	return c
}

// inProduction returns the case run against a production stack.
func (c ruleCase) inProduction() ruleCase {
	c.stack = production
	return c
}

// rulesByID indexes the project's rules.
func rulesByID(t *testing.T) map[string]Rule {
	t.Helper()
	set, err := DefaultSet()
	require.NoError(t, err)
	out := map[string]Rule{}
	for _, r := range set.Rules() {
		out[r.ID] = r
	}
	return out
}

// runCases evaluates every case with its rule and checks the violations:
// the right rule and severity, exactly the expected resources, and messages
// that name the resource and say how to fix it.
func runCases(t *testing.T, table map[string][]ruleCase) {
	rules := rulesByID(t)
	for id, cases := range table {
		rule, ok := rules[id]
		require.True(t, ok, "no rule %q", id)
		for _, c := range cases {
			t.Run(id+"/"+c.name, func(t *testing.T) {
				vs := rule.Evaluate(c.resources, c.stack)
				names := []string{}
				for _, v := range vs {
					names = append(names, v.Resource)
					require.Equal(t, id, v.RuleID)
					require.Equal(t, rule.Severity, v.Severity)
					require.Contains(t, v.Message, strconv.Quote(v.Resource), "the message names the resource")
					require.Contains(t, v.Message, "; ", "the message says how to fix it")
					require.Contains(t, v.Message, c.msg)
				}
				want := c.want
				if want == nil {
					want = []string{}
				}
				require.ElementsMatch(t, want, names, "violations: %+v", vs)
			})
		}
	}
}
