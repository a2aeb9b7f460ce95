package kube

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseQuantity(t *testing.T) {
	tests := []struct {
		in   string
		want float64
		ok   bool
	}{
		{"500m", 0.5, true},
		{"2", 2, true},
		{"1.5", 1.5, true},
		{".5", 0.5, true},
		{"512Mi", 512 << 20, true},
		{"8Gi", 8 << 30, true},
		{"1G", 1e9, true},
		{"1k", 1000, true},
		{"1e3", 1000, true},
		{"2E", 2e18, true},
		{"", 0, false},
		{"8 GB", 0, false},
		{"-1Gi", 0, false},
		{"1Gb", 0, false},
		{"Gi", 0, false},
	}
	for _, tt := range tests {
		got, err := ParseQuantity(tt.in)
		if !tt.ok {
			require.Error(t, err, tt.in)
			continue
		}
		require.NoError(t, err, tt.in)
		require.InDelta(t, tt.want, got, tt.want*1e-12, tt.in)
	}
}

// check runs fn on a fresh Checker and returns its error text ("" for none).
func check(fn func(c *Checker)) string {
	c := NewChecker("pkg.NewX")
	fn(c)
	if err := c.Err(); err != nil {
		return err.Error()
	}
	return ""
}

func TestCheckerImage(t *testing.T) {
	digest := "sha256:" + strings.Repeat("ab", 32)
	tests := []struct {
		image string
		want  string // "" when valid
	}{
		{"ghcr.io/x/mmllm:v1.2.3", ""},
		{"localhost:5000/mmllm:2026-01-01", ""},
		{"mmllm@" + digest, ""},
		{"ghcr.io/x/mmllm:v1@" + digest, ""},
		{"", "is required"},
		{"mmllm", "has no tag"},
		{"localhost:5000/mmllm", "has no tag"},
		{"mmllm:latest", "floats on latest"},
		{"mmllm@sha256:abc", "malformed digest"},
		{"@" + digest, "malformed digest"},
		{"mmllm:-bad", "malformed tag"},
	}
	for _, tt := range tests {
		got := check(func(c *Checker) { c.Image("Image", tt.image) })
		if tt.want == "" {
			require.Empty(t, got, tt.image)
			continue
		}
		require.Contains(t, got, "pkg.NewX: invalid args: Image: ", tt.image)
		require.Contains(t, got, tt.want, tt.image)
	}
}

func TestCheckerFields(t *testing.T) {
	tests := []struct {
		name string
		fn   func(c *Checker)
		want string // "" when valid
	}{
		{"name", func(c *Checker) { c.Name("K", "mmllm-1") }, ""},
		{"name upper", func(c *Checker) { c.Name("K", "MMLLM") }, "K: \"MMLLM\" is not a valid Kubernetes name"},
		{"name long", func(c *Checker) { c.Name("K", strings.Repeat("a", 64)) }, "K:"},
		{"name dash", func(c *Checker) { c.Name("K", "a-") }, "K:"},
		{"required", func(c *Checker) { c.Required("K", " ") }, "K: is required"},
		{"min", func(c *Checker) { c.Min("K", -1, 0) }, "K: is -1; it must be at least 0"},
		{"range", func(c *Checker) { c.Range("K", 101, 1, 100) }, "K: is 101; it must be between 1 and 100"},
		{"port", func(c *Checker) { c.Port("K", 0) }, "K:"},
		{"resources", func(c *Checker) {
			c.Resources("R", Resources{CPURequest: "500m", CPULimit: "2", MemoryRequest: "2Gi", MemoryLimit: "8Gi"})
		}, ""},
		{"request above limit", func(c *Checker) {
			c.Resources("R", Resources{CPURequest: "2500m", CPULimit: "2", MemoryRequest: "2Gi", MemoryLimit: "8Gi"})
		}, "R.CPURequest: 2500m is above R.CPULimit (2)"},
		{"zero quantity", func(c *Checker) { c.Quantity("Q", "0") }, "Q: \"0\" must be above zero"},
		{"labels", func(c *Checker) { c.Labels("L", map[string]string{"app.kubernetes.io/name": "x", "tier": ""}, true) }, ""},
		{"labels required", func(c *Checker) { c.Labels("L", nil, true) }, "L: is required"},
		{"label key", func(c *Checker) { c.Labels("L", map[string]string{"Bad_Prefix/x": "y"}, false) }, "invalid prefix"},
		{"label value", func(c *Checker) { c.Labels("L", map[string]string{"x": "has space"}, false) }, "invalid value"},
		{"url", func(c *Checker) { c.URL("U", "http://prom.monitoring.svc:9090") }, ""},
		{"url scheme", func(c *Checker) { c.URL("U", "prom:9090") }, "U:"},
		{"host", func(c *Checker) { c.Host("H", "api.example.com") }, ""},
		{"host wildcard", func(c *Checker) { c.Host("H", "*.example.com") }, ""},
		{"host single label", func(c *Checker) { c.Host("H", "localhost") }, "H:"},
		{"cidr", func(c *Checker) { c.CIDR("C", "::/0") }, ""},
		{"cidr bad", func(c *Checker) { c.CIDR("C", "10.0.0.1") }, "C:"},
		{"chart", func(c *Checker) { c.ChartVersion("V", "v24.9.2") }, ""},
		{"chart range", func(c *Checker) { c.ChartVersion("V", "^65.0.0") }, "V:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := check(tt.fn)
			if tt.want == "" {
				require.Empty(t, got)
				return
			}
			require.Contains(t, got, tt.want)
		})
	}
	got := check(func(c *Checker) { c.Name("A", ""); c.Port("B", -1) })
	require.Contains(t, got, "A:")
	require.Contains(t, got, "B:", "every problem is reported, not only the first")
}

func TestCheckCall(t *testing.T) {
	type args struct{}
	require.EqualError(t, CheckCall[args]("pkg.NewX", "x", nil), "pkg.NewX: args are required")
	require.EqualError(t, CheckCall("pkg.NewX", "", &args{}), "pkg.NewX: name is required")
	require.NoError(t, CheckCall("pkg.NewX", "x", &args{}))
}

func TestResourcesOr(t *testing.T) {
	r := Resources{CPURequest: "1"}.Or(Resources{CPURequest: "9", CPULimit: "2", MemoryRequest: "1Gi", MemoryLimit: "2Gi"})
	require.Equal(t, Resources{CPURequest: "1", CPULimit: "2", MemoryRequest: "1Gi", MemoryLimit: "2Gi"}, r)
}
