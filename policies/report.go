package policies

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// Report is the JSON form of a check's result.
type Report struct {
	// Stack is the checked stack's name.
	Stack string `json:"stack"`
	// Production says whether the production rules applied.
	Production bool `json:"production"`
	// Mandatory counts the mandatory violations; non-zero fails the check.
	Mandatory int `json:"mandatory"`
	// Advisory counts the advisory violations.
	Advisory int `json:"advisory"`
	// Violations lists every violation.
	Violations []Violation `json:"violations"`
}

// NewReport counts the violations of a stack.
func NewReport(stack StackInfo, vs []Violation) Report {
	rep := Report{Stack: stack.Name, Production: stack.Production, Violations: vs}
	if rep.Violations == nil {
		rep.Violations = []Violation{}
	}
	for _, v := range vs {
		if v.Severity == Mandatory {
			rep.Mandatory++
		} else {
			rep.Advisory++
		}
	}
	return rep
}

// WriteJSON writes the report as indented JSON.
func (rep Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(rep); err != nil {
		return fmt.Errorf("writing policy report for stack %q: %w", rep.Stack, err)
	}
	return nil
}

// WriteTable writes the report as a table (rule, severity, resource,
// message) followed by a one-line summary.
func (rep Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	if len(rep.Violations) > 0 {
		fmt.Fprintln(tw, "RULE\tSEVERITY\tRESOURCE\tMESSAGE")
	}
	for _, v := range rep.Violations {
		res := v.Resource
		if _, _, kind := typeParts(v.Type); kind != "" {
			res = kind + "/" + v.Resource
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", v.RuleID, v.Severity, res, strings.ReplaceAll(v.Message, "\n", " "))
	}
	verdict := "passed"
	if rep.Mandatory > 0 {
		verdict = "FAILED"
	}
	fmt.Fprintf(tw, "stack %s: %s (%d mandatory, %d advisory violations)\n", rep.Stack, verdict, rep.Mandatory, rep.Advisory)
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("writing policy report for stack %q: %w", rep.Stack, err)
	}
	return nil
}

// WriteRules writes the catalogue of rules as a table (rule, severity,
// kind, description, rationale).
func WriteRules(w io.Writer, rules []Rule) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RULE\tSEVERITY\tSCOPE\tDESCRIPTION\tRATIONALE")
	for _, r := range rules {
		scope := "resource"
		if r.IsStackRule() {
			scope = "stack"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.ID, r.Severity, scope, r.Description, r.Rationale)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("writing policy rules: %w", err)
	}
	return nil
}
