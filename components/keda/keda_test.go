package keda

import (
	"testing"

	"github.com/mobile-mm-llm/mobile-mm-llm/components/internal/mocktest"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/require"
)

func TestOperator(t *testing.T) {
	m := mocktest.MustRunWithProvider(t, "dev", func(ctx *pulumi.Context, k8s pulumi.ResourceOption) error {
		_, err := NewOperator(ctx, "keda", &Args{}, k8s)
		return err
	})
	ns := m.One(t, "kubernetes:core/v1:Namespace", "keda").Plain()
	require.Equal(t, "restricted", mocktest.At(ns, "metadata", "labels", "pod-security.kubernetes.io/enforce"))
	rels := m.OfType("kubernetes:helm.sh/v3:Release")
	require.Len(t, rels, 1)
	r := rels[0].Plain()
	require.Equal(t, "keda", r["chart"])
	require.Equal(t, DefaultChartVersion, r["version"])
	require.Equal(t, "keda", r["namespace"])
	require.Equal(t, DefaultChartRepo, mocktest.At(r, "repositoryOpts", "repo"))
	require.Empty(t, m.CheckPolicies(t, "production-alert-rules", "production-backup-schedule"))
}

func TestOperatorRejectsBadArgs(t *testing.T) {
	mocktest.RequireRejected(t, mocktest.Construct(NewOperator, "keda", &Args{ChartVersion: "2.x"}),
		"keda.NewOperator: invalid args", "ChartVersion:")
	mocktest.RequireRejected(t, mocktest.Construct(NewOperator, "keda", &Args{Namespace: "KEDA"}), "Namespace:")
	mocktest.RequireRejected(t, mocktest.Construct(NewOperator, "keda", nil), "keda.NewOperator: args are required")
}
