package policies

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Unknown stands for a property whose value is not known yet: during a
// preview, an input computed from another resource's output. Rules treat it
// as "set" where they only need a value to be present (a key ARN), and as an
// error where they need to read the value itself.
type Unknown struct{}

// Opaque stands for a property value no rule reads: an asset or an archive.
// Kind says which.
type Opaque struct{ Kind string }

// errUnknown marks a field whose value is computed and not yet known.
var errUnknown = errors.New("is computed from another resource and unknown until the update (the rule needs a literal value)")

// fieldError is a property that exists but has a shape a rule cannot read.
type fieldError struct {
	path string
	err  error
}

// Error names the property and what is wrong with it.
func (e *fieldError) Error() string { return e.path + " " + e.err.Error() }

// Unwrap returns the problem without the path.
func (e *fieldError) Unwrap() error { return e.err }

// node is a read-only cursor into a resource's JSON-like properties. A
// missing key yields an absent node (v == nil), never an error; walking
// through a value of the wrong kind yields a node carrying the error, which
// every accessor then returns.
type node struct {
	v    any
	path string
	err  error
}

// props returns the cursor at the root of a resource's properties.
func props(r Resource) node { return node{v: r.Props} }

func (n node) child(label string) string {
	if n.path == "" {
		return label
	}
	return n.path + "." + label
}

// key descends into the object member k.
func (n node) key(k string) node {
	if n.err != nil {
		return n
	}
	p := n.child(k)
	switch v := n.v.(type) {
	case nil:
		return node{path: p}
	case map[string]any:
		return node{v: v[k], path: p}
	case Unknown:
		return node{v: Unknown{}, path: p}
	default:
		return node{path: p, err: n.shape("an object")}
	}
}

// at descends through several object members.
func (n node) at(keys ...string) node {
	for _, k := range keys {
		n = n.key(k)
	}
	return n
}

// isSet reports whether the value is present; an Unknown value counts as
// present. A shape error is returned as is.
func (n node) isSet() (bool, error) {
	if n.err != nil {
		return false, n.err
	}
	return n.v != nil, nil
}

// shape builds the error for a value that is not of the wanted kind.
func (n node) shape(want string) error {
	if _, ok := n.v.(Unknown); ok {
		return &fieldError{path: n.pathOrRoot(), err: errUnknown}
	}
	return &fieldError{path: n.pathOrRoot(), err: fmt.Errorf("must be %s, not %s", want, describe(n.v))}
}

func (n node) pathOrRoot() string {
	if n.path == "" {
		return "properties"
	}
	return n.path
}

// items returns the elements of a list; an absent value is an empty list.
func (n node) items() ([]node, error) {
	if n.err != nil {
		return nil, n.err
	}
	if n.v == nil {
		return nil, nil
	}
	list, ok := n.v.([]any)
	if !ok {
		return nil, n.shape("a list")
	}
	out := make([]node, len(list))
	for i, v := range list {
		out[i] = node{v: v, path: n.path + "[" + strconv.Itoa(i) + "]"}
	}
	return out, nil
}

// object returns the members of an object; an absent value is an empty
// object.
func (n node) object() (map[string]node, error) {
	if n.err != nil {
		return nil, n.err
	}
	if n.v == nil {
		return nil, nil
	}
	m, ok := n.v.(map[string]any)
	if !ok {
		return nil, n.shape("an object")
	}
	out := make(map[string]node, len(m))
	for k, v := range m {
		out[k] = node{v: v, path: n.child(k)}
	}
	return out, nil
}

// boolean returns the value of a boolean and whether it is set.
func (n node) boolean() (val, set bool, err error) {
	if n.err != nil || n.v == nil {
		return false, false, n.err
	}
	b, ok := n.v.(bool)
	if !ok {
		return false, false, n.shape("a boolean")
	}
	return b, true, nil
}

// str returns the value of a string and whether it is set.
func (n node) str() (string, bool, error) {
	if n.err != nil || n.v == nil {
		return "", false, n.err
	}
	s, ok := n.v.(string)
	if !ok {
		return "", false, n.shape("a string")
	}
	return s, true, nil
}

// integer returns the value of a whole number and whether it is set. Numbers
// arrive as float64 from Pulumi; int, int64 and decimal strings are accepted
// too.
func (n node) integer() (int64, bool, error) {
	if n.err != nil || n.v == nil {
		return 0, false, n.err
	}
	switch v := n.v.(type) {
	case int:
		return int64(v), true, nil
	case int64:
		return v, true, nil
	case float64:
		if v != math.Trunc(v) || math.Abs(v) > 1<<53 {
			return 0, false, n.shape("a whole number")
		}
		return int64(v), true, nil
	case string:
		i, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return 0, false, n.shape("a whole number")
		}
		return i, true, nil
	}
	return 0, false, n.shape("a whole number")
}

// strings returns a list of strings; an absent value is an empty list.
func (n node) strings() ([]string, error) {
	items, err := n.items()
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(items))
	for _, it := range items {
		s, _, err := it.str()
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// stringMap returns an object of strings (labels, tags); an absent value is
// an empty map.
func (n node) stringMap() (map[string]string, error) {
	members, err := n.object()
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(members))
	for k, m := range members {
		s, _, err := m.str()
		if err != nil {
			return nil, err
		}
		out[k] = s
	}
	return out, nil
}

// nameOr returns the string value, or def when it is absent, unknown or not
// a string. It is for identifying values (names, namespaces) where an
// unknown must not stop the other checks.
func (n node) nameOr(def string) string {
	s, ok, err := n.str()
	if err != nil || !ok || s == "" {
		return def
	}
	return s
}

// describe names the kind of a JSON-like value for error messages.
func describe(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case string:
		return fmt.Sprintf("the string %q", v)
	case float64, int, int64:
		return "a number"
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	case Opaque:
		return "an " + v.Kind
	}
	return fmt.Sprintf("a %T", v)
}
