package policies

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/asset"
	"github.com/stretchr/testify/require"
)

func TestFromResourcePropertyMap(t *testing.T) {
	depURN := resource.URN("urn:pulumi:dev::mobile-mm-llm::aws:s3/bucketV2:BucketV2::models")
	a, err := asset.FromText("hello")
	require.NoError(t, err)
	in := resource.PropertyMap{
		"metadata": resource.NewObjectProperty(resource.PropertyMap{
			"name":   resource.NewStringProperty("api"),
			"labels": resource.NewObjectProperty(resource.PropertyMap{"app": resource.NewStringProperty("api")}),
		}),
		"replicas":  resource.NewNumberProperty(3),
		"enabled":   resource.NewBoolProperty(true),
		"nothing":   resource.NewNullProperty(),
		"token":     resource.MakeSecret(resource.NewStringProperty("s3cret")),
		"computed":  resource.MakeComputed(resource.NewStringProperty("")),
		"secretish": resource.MakeSecret(resource.MakeComputed(resource.NewStringProperty(""))),
		"known":     resource.NewOutputProperty(resource.Output{Element: resource.NewStringProperty("bkt"), Known: true, Dependencies: []resource.URN{depURN}}),
		"pending":   resource.NewOutputProperty(resource.Output{Known: false, Dependencies: []resource.URN{depURN}}),
		"list":      resource.NewArrayProperty([]resource.PropertyValue{resource.NewStringProperty("a"), resource.MakeComputed(resource.NewStringProperty(""))}),
		"code":      resource.NewAssetProperty(a),
		"ref":       resource.MakeCustomResourceReference(depURN, "models-id", "6.83.4"),
	}
	got := FromResourcePropertyMap(in)
	require.Equal(t, map[string]any{
		"metadata":  map[string]any{"name": "api", "labels": map[string]any{"app": "api"}},
		"replicas":  3.0,
		"enabled":   true,
		"nothing":   nil,
		"token":     "s3cret",
		"computed":  Unknown{},
		"secretish": Unknown{},
		"known":     "bkt",
		"pending":   Unknown{},
		"list":      []any{"a", Unknown{}},
		"code":      Opaque{Kind: "asset"},
		"ref":       string(depURN),
	}, got)

	// The converted props drive the rules like hand-written ones.
	r := Resource{Type: "kubernetes:apps/v1:Deployment", Name: "api", Props: FromResourcePropertyMap(resource.PropertyMap{
		"metadata": resource.NewObjectProperty(resource.PropertyMap{"labels": resource.NewObjectProperty(resource.PropertyMap{
			PartOfLabel: resource.MakeSecret(resource.NewStringProperty("mobile-mm-llm")),
		})}),
	})}
	msgs, err := checkK8sLabels(r, development)
	require.NoError(t, err)
	require.Empty(t, msgs)
}
