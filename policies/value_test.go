package policies

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestNodeAccessors(t *testing.T) {
	n := node{v: m{
		"spec": m{
			"replicas": 3.0,
			"half":     1.5,
			"str":      "7",
			"on":       true,
			"name":     "api",
			"list":     l{"a", "b"},
			"mixed":    l{"a", 1.0},
			"labels":   m{"app": "api"},
			"unknown":  Unknown{},
		},
	}}
	spec := n.key("spec")

	v, set, err := spec.key("replicas").integer()
	require.NoError(t, err)
	require.True(t, set)
	require.EqualValues(t, 3, v)

	v, set, err = spec.key("str").integer()
	require.NoError(t, err)
	require.True(t, set)
	require.EqualValues(t, 7, v)

	_, _, err = spec.key("half").integer()
	require.ErrorContains(t, err, "spec.half must be a whole number, not a number")

	_, set, err = spec.key("missing").integer()
	require.NoError(t, err)
	require.False(t, set)

	b, set, err := spec.key("on").boolean()
	require.NoError(t, err)
	require.True(t, set && b)

	_, _, err = spec.key("name").boolean()
	require.ErrorContains(t, err, `spec.name must be a boolean, not the string "api"`)

	strs, err := spec.key("list").strings()
	require.NoError(t, err)
	require.Equal(t, []string{"a", "b"}, strs)

	_, err = spec.key("mixed").strings()
	require.ErrorContains(t, err, "spec.mixed[1] must be a string")

	labels, err := spec.key("labels").stringMap()
	require.NoError(t, err)
	require.Equal(t, map[string]string{"app": "api"}, labels)

	// Walking through a value of the wrong kind carries the error to the end.
	_, _, err = spec.at("name", "deeper", "still").str()
	require.ErrorContains(t, err, "spec.name must be an object")

	// Unknown values are present, but cannot be read.
	set, err = spec.key("unknown").isSet()
	require.NoError(t, err)
	require.True(t, set)
	set, err = spec.at("unknown", "below").isSet()
	require.NoError(t, err)
	require.True(t, set)
	_, _, err = spec.key("unknown").str()
	require.True(t, errors.Is(err, errUnknown))
	require.Equal(t, "fallback", spec.key("unknown").nameOr("fallback"))
	require.Equal(t, "api", spec.key("name").nameOr("fallback"))

	items, err := spec.key("absent").items()
	require.NoError(t, err)
	require.Empty(t, items)
	_, err = spec.key("labels").items()
	require.ErrorContains(t, err, "spec.labels must be a list, not an object")

	_, err = node{v: Opaque{Kind: "asset"}, path: "code"}.object()
	require.ErrorContains(t, err, "code must be an object, not an asset")
}
