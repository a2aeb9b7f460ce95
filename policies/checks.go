package policies

// perResource adapts a check returning problems (messages without the
// resource's label) and a shape error into a Rule.Check.
func perResource(fn func(r Resource, stack StackInfo) ([]string, error)) func(Resource, StackInfo) []Violation {
	return func(r Resource, stack StackInfo) []Violation {
		msgs, err := fn(r, stack)
		out := make([]Violation, 0, len(msgs)+1)
		for _, m := range msgs {
			out = append(out, violation(r, "%s", m))
		}
		if err != nil {
			out = append(out, shapeViolation(r, err))
		}
		return out
	}
}

// oneRule adapts a check returning one problem ("" for none) for the given
// resource types into a Rule.Check.
func oneRule(fn func(r Resource, stack StackInfo) (string, error), types ...string) func(Resource, StackInfo) []Violation {
	return perResource(func(r Resource, stack StackInfo) ([]string, error) {
		if !r.is(types...) {
			return nil, nil
		}
		msg, err := fn(r, stack)
		if msg == "" {
			return nil, err
		}
		return []string{msg}, err
	})
}
