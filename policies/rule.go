// Package policies holds the project's policy-as-code rules: plain Go
// functions over a resource's type token and input properties, so they are
// unit-tested without a Pulumi engine. The same rules run in CI over the
// resources a stack registers under mocks and, through the policyx adapter
// in policies/pack, inside `pulumi preview --policy-pack`.
package policies

import (
	"cmp"
	"errors"
	"fmt"
	"regexp"
	"slices"
)

// Severity says whether a violation blocks a deployment.
type Severity string

const (
	// Mandatory violations fail the check and stop `pulumi up`.
	Mandatory Severity = "mandatory"
	// Advisory violations are reported but do not fail the check.
	Advisory Severity = "advisory"
)

// Rule is one policy. Exactly one of Check (run on every resource) and
// CheckStack (run once over all of a stack's resources, for rules that
// relate resources to each other) is set.
type Rule struct {
	// ID names the rule, lower-case words joined by dashes ("k8s-no-privileged").
	ID string
	// Description says what the rule requires, in one line.
	Description string
	// Rationale says why, in one line.
	Rationale string
	// Severity is Mandatory or Advisory.
	Severity Severity
	// Check returns the violations of one resource.
	Check func(r Resource, stack StackInfo) []Violation
	// CheckStack returns the violations of a whole stack.
	CheckStack func(resources []Resource, stack StackInfo) []Violation
}

// Violation is one broken rule on one resource (or on the stack as a whole,
// where URN is empty and Resource is the stack's name).
type Violation struct {
	// RuleID is the broken rule's ID.
	RuleID string `json:"rule"`
	// Severity is the broken rule's severity.
	Severity Severity `json:"severity"`
	// URN is the offending resource's URN, empty for the stack.
	URN string `json:"urn,omitempty"`
	// Type is the offending resource's type token.
	Type string `json:"type,omitempty"`
	// Resource is the offending resource's logical name.
	Resource string `json:"resource"`
	// Message says what is wrong and how to fix it, naming the resource.
	Message string `json:"message"`
}

// violation builds a violation of r; the rule's ID and severity are filled
// in by Rule.Evaluate.
func violation(r Resource, format string, args ...any) Violation {
	return Violation{URN: r.URN, Type: r.Type, Resource: r.Name, Message: r.label() + ": " + fmt.Sprintf(format, args...)}
}

// shapeViolation reports a property a rule cannot read: a wrong shape is a
// violation, never a silent pass.
func shapeViolation(r Resource, err error) Violation {
	return violation(r, "cannot be checked, so it fails: %v; fix that property", err)
}

// stackViolation builds a violation of the stack as a whole.
func stackViolation(stack StackInfo, format string, args ...any) Violation {
	return Violation{Type: "pulumi:pulumi:Stack", Resource: stack.Name,
		Message: fmt.Sprintf("stack %q: ", stack.Name) + fmt.Sprintf(format, args...)}
}

// IsStackRule reports whether the rule relates a stack's resources to each
// other (CheckStack) rather than judging one resource at a time.
func (rule Rule) IsStackRule() bool { return rule.CheckStack != nil }

// Evaluate runs the rule over resources (each one in turn for a resource
// rule, all together for a stack rule) and returns its violations with the
// rule's ID and severity. A check that panics on an unexpected input is
// reported as a violation of every resource it was given, so that a bug
// fails closed.
func (rule Rule) Evaluate(resources []Resource, stack StackInfo) []Violation {
	var out []Violation
	if rule.IsStackRule() {
		out = rule.guard(resources, stack, func() []Violation { return rule.CheckStack(resources, stack) })
	} else {
		for _, r := range resources {
			out = append(out, rule.guard([]Resource{r}, stack, func() []Violation { return rule.Check(r, stack) })...)
		}
	}
	for i := range out {
		out[i].RuleID = rule.ID
		out[i].Severity = rule.Severity
	}
	return out
}

func (rule Rule) guard(resources []Resource, stack StackInfo, check func() []Violation) (out []Violation) {
	defer func() {
		if p := recover(); p != nil {
			out = nil
			if len(resources) == 0 {
				out = append(out, stackViolation(stack, "rule %s failed internally (%v); report it", rule.ID, p))
			}
			for _, r := range resources {
				out = append(out, violation(r, "rule %s failed internally (%v); report it", rule.ID, p))
			}
		}
	}()
	return check()
}

// ruleIDPattern is the shape of a rule ID: it doubles as the policyx policy
// name.
var ruleIDPattern = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// Set is a validated list of rules.
type Set struct {
	rules []Rule
}

// NewSet validates rules (each with an ID of lower-case words joined by
// dashes, a description, a rationale, a known severity and exactly one check
// function; no two with the same ID) and returns them as a Set.
func NewSet(rules []Rule) (*Set, error) {
	seen := make(map[string]int, len(rules))
	var errs []error
	for i, rule := range rules {
		name := fmt.Sprintf("rule %d (%q)", i, rule.ID)
		if rule.ID == "" {
			name = fmt.Sprintf("rule %d (no ID, description %q)", i, rule.Description)
		}
		switch {
		case rule.ID == "":
			errs = append(errs, fmt.Errorf("%s: missing ID", name))
		case !ruleIDPattern.MatchString(rule.ID) || rule.ID == "all":
			errs = append(errs, fmt.Errorf("%s: ID must be lower-case words joined by dashes, and not \"all\"", name))
		}
		if j, dup := seen[rule.ID]; dup && rule.ID != "" {
			errs = append(errs, fmt.Errorf("%s: duplicate ID, also rule %d", name, j))
		}
		seen[rule.ID] = i
		if rule.Severity != Mandatory && rule.Severity != Advisory {
			errs = append(errs, fmt.Errorf("%s: severity %q is neither %q nor %q", name, rule.Severity, Mandatory, Advisory))
		}
		if rule.Description == "" || rule.Rationale == "" {
			errs = append(errs, fmt.Errorf("%s: missing description or rationale", name))
		}
		if (rule.Check == nil) == (rule.CheckStack == nil) {
			errs = append(errs, fmt.Errorf("%s: set exactly one of Check and CheckStack", name))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("invalid policy rules: %w", err)
	}
	return &Set{rules: slices.Clone(rules)}, nil
}

// DefaultSet returns the project's rules (Rules) as a Set.
func DefaultSet() (*Set, error) { return NewSet(Rules()) }

// Rules returns a copy of the set's rules, in order.
func (s *Set) Rules() []Rule { return slices.Clone(s.rules) }

// Check runs every rule of the set over a stack's resources and returns the
// violations sorted: mandatory first, then by rule, resource and message.
func (s *Set) Check(resources []Resource, stack StackInfo) []Violation {
	var out []Violation
	for _, rule := range s.rules {
		out = append(out, rule.Evaluate(resources, stack)...)
	}
	SortViolations(out)
	return out
}

// SortViolations orders violations mandatory first, then by rule ID,
// resource name and message.
func SortViolations(vs []Violation) {
	rank := func(s Severity) int {
		if s == Mandatory {
			return 0
		}
		return 1
	}
	slices.SortStableFunc(vs, func(a, b Violation) int {
		return cmp.Or(cmp.Compare(rank(a.Severity), rank(b.Severity)), cmp.Compare(a.RuleID, b.RuleID),
			cmp.Compare(a.Resource, b.Resource), cmp.Compare(a.Message, b.Message))
	})
}

// HasMandatory reports whether any violation is mandatory.
func HasMandatory(vs []Violation) bool {
	return slices.ContainsFunc(vs, func(v Violation) bool { return v.Severity == Mandatory })
}
