package cloud

import (
	"testing"

	"github.com/mobile-mm-llm/mobile-mm-llm/components/kube"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

func TestKubeconfig(t *testing.T) {
	out, err := Kubeconfig(KubeconfigArgs{
		Name: "prod", Server: "https://api.example", CAData: "Q0E=",
		Exec: Exec{Command: "aws", Args: []string{"eks", "get-token"}, Env: map[string]string{"B": "2", "A": "1"}},
	})
	require.NoError(t, err)
	var kc map[string]any
	require.NoError(t, yaml.Unmarshal([]byte(out), &kc))
	require.Equal(t, "Config", kc["kind"])
	require.Equal(t, "prod", kc["current-context"])
	require.Equal(t, map[string]any{"name": "prod", "cluster": map[string]any{"server": "https://api.example", "certificate-authority-data": "Q0E="}},
		kc["clusters"].([]any)[0])
	require.Equal(t, map[string]any{"name": "prod", "context": map[string]any{"cluster": "prod", "user": "prod"}}, kc["contexts"].([]any)[0])
	exec := kc["users"].([]any)[0].(map[string]any)["user"].(map[string]any)["exec"].(map[string]any)
	require.Equal(t, ExecAPIVersion, exec["apiVersion"])
	require.Equal(t, "aws", exec["command"])
	require.Equal(t, []any{"eks", "get-token"}, exec["args"])
	require.Equal(t, []any{map[string]any{"name": "A", "value": "1"}, map[string]any{"name": "B", "value": "2"}}, exec["env"], "sorted")
	require.Equal(t, "Never", exec["interactiveMode"])
	require.NotContains(t, exec, "provideClusterInfo")

	_, err = Kubeconfig(KubeconfigArgs{Name: "prod"})
	require.ErrorContains(t, err, "exec command")
}

func TestCheckTags(t *testing.T) {
	tests := []struct {
		name string
		tags map[string]string
		gcp  bool
		want string
	}{
		{"complete", map[string]string{"environment": "prod", "owner": "ml", "cost-center": "42"}, true, ""},
		{"missing", map[string]string{"owner": "ml"}, false, "T: lacks environment, cost-center"},
		{"blank", map[string]string{"environment": " ", "owner": "ml", "cost-center": "42"}, false, "T: lacks environment"},
		{"aws allows upper case", map[string]string{"environment": "Prod", "owner": "ML Team", "cost-center": "42"}, false, ""},
		{"gcp label syntax", map[string]string{"environment": "Prod", "owner": "ml", "cost-center": "42"}, true, `"environment"="Prod" is not a GCP label`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := kube.NewChecker("x")
			CheckTags(c, "T", tt.tags, tt.gcp)
			if tt.want == "" {
				require.NoError(t, c.Err())
				return
			}
			require.ErrorContains(t, c.Err(), tt.want)
		})
	}
}

func TestCheckCIDRs(t *testing.T) {
	c := kube.NewChecker("x")
	CheckCIDRs(c, "C", []string{"203.0.113.0/24", "2001:db8::/32"}, true)
	require.NoError(t, c.Err())
	for _, tt := range []struct {
		cidrs    []string
		required bool
		want     string
	}{
		{nil, true, "C: is required"},
		{[]string{"::/0"}, false, `"::/0" opens the API server`},
		{[]string{"10.0.0.300/8"}, false, "is not a CIDR"},
	} {
		c := kube.NewChecker("x")
		CheckCIDRs(c, "C", tt.cidrs, tt.required)
		require.ErrorContains(t, c.Err(), tt.want)
	}
	c = kube.NewChecker("x")
	CheckCIDRs(c, "C", nil, false)
	require.NoError(t, c.Err(), "a private endpoint needs no CIDRs")
}
