package runner

import (
	"encoding/base64"
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"gopkg.in/yaml.v3"
)

// Provider functions the cloud components call on purpose (see
// components/README.md): the facts exist only once the resource does.
const (
	// InvokeAKSUserCredentials returns an AKS cluster's user kubeconfig.
	InvokeAKSUserCredentials = "azure-native:containerservice:listManagedClusterUserCredentials"
	// InvokeAzureRedisKeys returns an Azure Cache for Redis's access keys.
	InvokeAzureRedisKeys = "azure-native:cache:listRedisKeys"
)

// aksServerAppID is the application ID of the Entra ID server app that
// AKS-managed Entra ID clusters' tokens are issued for.
const aksServerAppID = "6dae42f8-4368-4678-94ff-3960e28e3630"

// DefaultInvokes are the runner's answers to the provider functions the
// project's cloud components call, shaped as the provider answers them,
// with placeholders for what a real cloud would return: an AKS user
// kubeconfig in exec format (kubelogin, as AKS writes it) and Azure Cache
// access keys. A policy check needs their shape, not their values.
func DefaultInvokes() map[string]InvokeFunc {
	return map[string]InvokeFunc{
		InvokeAKSUserCredentials: aksUserCredentials,
		InvokeAzureRedisKeys: func(args resource.PropertyMap) (resource.PropertyMap, error) {
			return resource.NewPropertyMapFromMap(map[string]any{
				"primaryKey":   Placeholder(InvokeAzureRedisKeys + ".primaryKey"),
				"secondaryKey": Placeholder(InvokeAzureRedisKeys + ".secondaryKey"),
			}), nil
		},
	}
}

// aksUserCredentials answers InvokeAKSUserCredentials for the cluster
// named in args.
func aksUserCredentials(args resource.PropertyMap) (resource.PropertyMap, error) {
	cluster, rg := args["resourceName"], args["resourceGroupName"]
	if !cluster.IsString() || !rg.IsString() {
		return nil, fmt.Errorf("invoke %s: resourceName and resourceGroupName are required", InvokeAKSUserCredentials)
	}
	name := cluster.StringValue()
	user := "clusterUser_" + rg.StringValue() + "_" + name
	kc := map[string]any{
		"apiVersion": "v1",
		"kind":       "Config",
		"clusters": []any{map[string]any{"name": name, "cluster": map[string]any{
			"server":                     "https://" + name + ".hcp.policy-check.azmk8s.io:443",
			"certificate-authority-data": base64.StdEncoding.EncodeToString([]byte(Placeholder(InvokeAKSUserCredentials + ".ca"))),
		}}},
		"contexts":        []any{map[string]any{"name": name, "context": map[string]any{"cluster": name, "user": user}}},
		"current-context": name,
		"users": []any{map[string]any{"name": user, "user": map[string]any{"exec": map[string]any{
			"apiVersion": "client.authentication.k8s.io/v1beta1",
			"command":    "kubelogin",
			"args":       []any{"get-token", "--login", "devicecode", "--server-id", aksServerAppID, "--environment", "AzurePublicCloud"},
		}}}},
	}
	out, err := yaml.Marshal(kc)
	if err != nil {
		return nil, fmt.Errorf("invoke %s: %w", InvokeAKSUserCredentials, err)
	}
	return resource.NewPropertyMapFromMap(map[string]any{"kubeconfigs": []any{
		map[string]any{"name": "clusterUser", "value": base64.StdEncoding.EncodeToString(out)},
	}}), nil
}
