package main

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/emptypb"
)

// serveEnv makes the test binary act as the policy pack executable, so the
// test can start it as the engine would without building another binary.
const serveEnv = "MMLLM_POLICY_PACK_SERVE"

func TestMain(m *testing.M) {
	if os.Getenv(serveEnv) == "1" {
		if err := run(nil); err != nil {
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestServesAnalyzerProtocol starts the pack as a child process and talks to
// it the way the Pulumi engine does: read the port from stdout, handshake,
// configure the stack, list the policies, analyze a resource and a stack.
func TestServesAnalyzerProtocol(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "127.0.0.1:0")
	cmd.Env = append(os.Environ(), serveEnv+"=1")
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()
	port, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(t, err)

	conn, err := grpc.NewClient("127.0.0.1:"+strings.TrimSpace(port), grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	defer conn.Close()
	client := pulumirpc.NewAnalyzerClient(conn)

	dir := t.TempDir()
	_, err = client.Handshake(ctx, &pulumirpc.AnalyzerHandshakeRequest{RootDirectory: &dir, ProgramDirectory: &dir})
	require.NoError(t, err)
	_, err = client.ConfigureStack(ctx, &pulumirpc.AnalyzerStackConfigureRequest{
		Stack: "prod-us-east-1", Project: "mobile-mm-llm", DryRun: true,
	})
	require.NoError(t, err)

	info, err := client.GetAnalyzerInfo(ctx, &emptypb.Empty{})
	require.NoError(t, err)
	require.Equal(t, "mobile-mm-llm", info.GetName())
	require.GreaterOrEqual(t, len(info.GetPolicies()), 25)

	props, err := plugin.MarshalProperties(resource.NewPropertyMapFromMap(map[string]any{
		"metadata": map[string]any{"name": "api", "namespace": "mmllm"},
		"spec":     map[string]any{"minReplicas": 2, "scaleTargetRef": map[string]any{"kind": "Deployment", "name": "api"}},
	}), plugin.MarshalOptions{})
	require.NoError(t, err)
	urn := "urn:pulumi:prod-us-east-1::mobile-mm-llm::kubernetes:autoscaling/v2:HorizontalPodAutoscaler::api"
	res, err := client.Analyze(ctx, &pulumirpc.AnalyzeRequest{
		Urn: urn, Type: "kubernetes:autoscaling/v2:HorizontalPodAutoscaler", Name: "api", Properties: props,
	})
	require.NoError(t, err)
	byPolicy := map[string]*pulumirpc.AnalyzeDiagnostic{}
	for _, d := range res.GetDiagnostics() {
		byPolicy[d.GetPolicyName()] = d
	}
	d := byPolicy["k8s-autoscaler-min-replicas"]
	require.NotNil(t, d, "diagnostics: %v", res.GetDiagnostics())
	require.Contains(t, d.GetMessage(), "at least 3 in a production stack")
	require.Equal(t, pulumirpc.EnforcementLevel_MANDATORY, d.GetEnforcementLevel())
	require.Equal(t, urn, d.GetUrn())
	require.NotNil(t, byPolicy["k8s-required-labels"], "the labels are missing too")

	stack, err := client.AnalyzeStack(ctx, &pulumirpc.AnalyzeStackRequest{})
	require.NoError(t, err)
	var ids []string
	for _, d := range stack.GetDiagnostics() {
		ids = append(ids, d.GetPolicyName())
	}
	require.ElementsMatch(t, []string{"production-backup-schedule", "production-alert-rules"}, ids)
}
