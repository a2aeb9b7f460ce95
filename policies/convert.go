package policies

import (
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/property"
)

// FromPropertyMap turns Pulumi property values into the plain values rules
// read: secrets are unwrapped (the rules judge values, not their secrecy),
// computed values become Unknown, resource references become their URN, and
// assets and archives become Opaque.
func FromPropertyMap(m property.Map) map[string]any {
	out := make(map[string]any, m.Len())
	for k, v := range m.All {
		out[k] = fromPropertyValue(v)
	}
	return out
}

// FromResourcePropertyMap is FromPropertyMap for the older
// resource.PropertyMap, which mocked resource registrations carry
// (pulumi.MockResourceArgs.Inputs).
func FromResourcePropertyMap(m resource.PropertyMap) map[string]any {
	return FromPropertyMap(resource.FromResourcePropertyMap(m))
}

func fromPropertyValue(v property.Value) any {
	switch {
	case v.IsComputed():
		return Unknown{}
	case v.IsBool():
		return v.AsBool()
	case v.IsNumber():
		return v.AsNumber()
	case v.IsString():
		return v.AsString()
	case v.IsArray():
		arr := v.AsArray()
		out := make([]any, 0, arr.Len())
		for _, e := range arr.All {
			out = append(out, fromPropertyValue(e))
		}
		return out
	case v.IsMap():
		return FromPropertyMap(v.AsMap())
	case v.IsResourceReference():
		return string(v.AsResourceReference().URN)
	case v.IsAsset():
		return Opaque{Kind: "asset"}
	case v.IsArchive():
		return Opaque{Kind: "archive"}
	}
	return nil
}
