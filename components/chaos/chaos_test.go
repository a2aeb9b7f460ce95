package chaos

import (
	"testing"
	"time"

	"github.com/mobile-mm-llm/mobile-mm-llm/components/internal/mocktest"
	"github.com/mobile-mm-llm/mobile-mm-llm/components/kube"
	"github.com/mobile-mm-llm/mobile-mm-llm/policies"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/robfig/cron/v3"
	"github.com/stretchr/testify/require"
)

// inferencePods are the workload's selector labels, as workload.Inference
// exports them.
var inferencePods = map[string]string{"app.kubernetes.io/name": "mobile-multimodal-llm", "app.kubernetes.io/instance": "inference"}

const (
	releaseType  = "kubernetes:helm.sh/v3:Release"
	podChaosType = "kubernetes:chaos-mesh.org/v1alpha1:PodChaos"
	scheduleType = "kubernetes:chaos-mesh.org/v1alpha1:Schedule"
)

func args(mod func(*Args)) *Args {
	a := &Args{TargetNamespace: "mmllm", TargetLabels: inferencePods}
	if mod != nil {
		mod(a)
	}
	return a
}

func run(t *testing.T, a *Args) *mocktest.Mocks {
	t.Helper()
	return mocktest.MustRunWithProvider(t, "dev", func(ctx *pulumi.Context, k8s pulumi.ResourceOption) error {
		_, err := NewMesh(ctx, "chaos", a, k8s)
		return err
	})
}

// depMocks are mocktest's mocks that also record each resource's
// dependencies (DependsOn), by logical name.
type depMocks struct {
	*mocktest.Mocks
	deps map[string][]string
}

func (m depMocks) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	if args.RegisterRPC != nil {
		m.deps[args.Name] = args.RegisterRPC.GetDependencies()
	}
	return m.Mocks.NewResource(args)
}

func release(t *testing.T, m *mocktest.Mocks) map[string]any {
	t.Helper()
	rels := m.OfType(releaseType)
	require.Len(t, rels, 1)
	return rels[0].Plain()
}

func TestMeshDefaultsAreTheGuidesExperiment(t *testing.T) {
	m := run(t, args(nil))

	ns := m.One(t, "kubernetes:core/v1:Namespace", DefaultNamespace).Plain()
	require.Equal(t, "privileged", mocktest.At(ns, "metadata", "labels", "pod-security.kubernetes.io/enforce"),
		"chaos-daemon is privileged with hostPID and the runtime socket")

	r := release(t, m)
	require.Equal(t, "chaos-mesh", r["chart"])
	require.Equal(t, DefaultChartVersion, r["version"])
	require.Equal(t, DefaultNamespace, r["namespace"])
	require.Equal(t, DefaultChartRepo, mocktest.At(r, "repositoryOpts", "repo"))
	require.Equal(t, false, mocktest.At(r, "values", "clusterScoped"), "the controller is namespace-scoped")
	require.Equal(t, "mmllm", mocktest.At(r, "values", "controllerManager", "targetNamespace"))
	require.Equal(t, "containerd", mocktest.At(r, "values", "chaosDaemon", "runtime"))
	require.Equal(t, "/run/containerd/containerd.sock", mocktest.At(r, "values", "chaosDaemon", "socketPath"))
	require.Equal(t, false, mocktest.At(r, "values", "dashboard", "create"))
	require.Equal(t, DefaultPauseImage, mocktest.At(r, "values", "controllerManager", "podChaos", "podFailure", "pauseImage"))

	exp := m.One(t, podChaosType, DefaultExperimentName)
	pc := exp.Plain()
	require.Equal(t, "chaos-mesh.org/v1alpha1", pc["apiVersion"])
	require.Equal(t, "mmllm", mocktest.At(pc, "metadata", "namespace"))
	require.Equal(t, map[string]any{
		"action": "pod-failure", "mode": "fixed-percent", "value": "10", "duration": "60s",
		"selector": map[string]any{
			"namespaces":     []any{"mmllm"},
			"labelSelectors": map[string]any{"app.kubernetes.io/name": "mobile-multimodal-llm", "app.kubernetes.io/instance": "inference"},
		},
	}, pc["spec"])
	require.Empty(t, m.OfType(scheduleType))

	// The privileged namespace is the policies' documented second exception,
	// recognised by the labels set here.
	require.Equal(t, policies.ChaosMeshName, mocktest.At(ns, "metadata", "labels", policies.NameLabel))
	require.Equal(t, policies.ChaosComponent, mocktest.At(ns, "metadata", "labels", policies.ComponentLabel))
	require.Empty(t, m.CheckPolicies(t, "production-alert-rules", "production-backup-schedule"))
}

func TestMeshExperimentWaitsForTheRelease(t *testing.T) {
	m := depMocks{Mocks: mocktest.New("dev"), deps: map[string][]string{}}
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		_, err := NewMesh(ctx, "chaos", args(nil))
		return err
	}, pulumi.WithMocks(mocktest.Project, "dev", m))
	require.NoError(t, err)
	rel := m.OfType(releaseType)
	require.Len(t, rel, 1)
	require.Contains(t, m.deps["chaos-experiment"], rel[0].URN, "the experiment needs the release's CRDs and webhook")
}

func TestMeshScheduledPodKill(t *testing.T) {
	m := run(t, args(func(a *Args) {
		a.Runtime, a.SocketPath = Containerd, "/run/k3s/containerd/containerd.sock"
		a.Experiment = Experiment{Name: "kill-one", Action: PodKill, Mode: One, GracePeriodSeconds: 5, Schedule: "*/30 * * * *"}
	}))
	require.Equal(t, "/run/k3s/containerd/containerd.sock", mocktest.At(release(t, m), "values", "chaosDaemon", "socketPath"))
	require.Empty(t, m.OfType(podChaosType), "a scheduled experiment is a Schedule of PodChaos runs")
	s := m.One(t, scheduleType, "kill-one").Plain()
	require.Equal(t, "*/30 * * * *", mocktest.At(s, "spec", "schedule"))
	require.Equal(t, "PodChaos", mocktest.At(s, "spec", "type"))
	require.Equal(t, "Forbid", mocktest.At(s, "spec", "concurrencyPolicy"))
	require.Equal(t, map[string]any{
		"action": "pod-kill", "mode": "one", "gracePeriod": float64(5),
		"selector": map[string]any{
			"namespaces":     []any{"mmllm"},
			"labelSelectors": map[string]any{"app.kubernetes.io/name": "mobile-multimodal-llm", "app.kubernetes.io/instance": "inference"},
		},
	}, mocktest.At(s, "spec", "podChaos"), "no value for mode one, no duration for pod-kill")
}

func TestMeshRuntimeSockets(t *testing.T) {
	for _, tc := range []struct {
		runtime Runtime
		socket  string
	}{
		{CRIO, "/var/run/crio/crio.sock"},
		{Docker, "/var/run/docker.sock"},
		{Containerd, "/run/containerd/containerd.sock"},
	} {
		t.Run(string(tc.runtime), func(t *testing.T) {
			r := release(t, run(t, args(func(a *Args) { a.Runtime = tc.runtime })))
			require.Equal(t, string(tc.runtime), mocktest.At(r, "values", "chaosDaemon", "runtime"))
			require.Equal(t, tc.socket, mocktest.At(r, "values", "chaosDaemon", "socketPath"))
		})
	}
}

func TestMeshRejectsBadArgs(t *testing.T) {
	for _, tc := range []struct {
		name  string
		mod   func(*Args)
		wants []string
	}{
		{"no target namespace", func(a *Args) { a.TargetNamespace = "" }, []string{"chaos.NewMesh: invalid args", "TargetNamespace: is required"}},
		{"target is chaos mesh's own", func(a *Args) { a.TargetNamespace = DefaultNamespace }, []string{"TargetNamespace:", "own namespace"}},
		{"no target labels", func(a *Args) { a.TargetLabels = nil }, []string{"TargetLabels: is required"}},
		{"bad label", func(a *Args) { a.TargetLabels = map[string]string{"app": "not ok!"} }, []string{"TargetLabels:"}},
		{"chart range", func(a *Args) { a.ChartVersion = "2.x" }, []string{"ChartVersion:"}},
		{"unknown runtime", func(a *Args) { a.Runtime = "rkt" }, []string{"Runtime:", `"rkt"`}},
		{"relative socket", func(a *Args) { a.SocketPath = "run/containerd.sock" }, []string{"SocketPath:"}},
		{"unknown action", func(a *Args) { a.Experiment.Action = "container-kill" }, []string{"Experiment.Action:"}},
		{"unknown mode", func(a *Args) { a.Experiment.Mode = "half" }, []string{"Experiment.Mode:"}},
		{"percent above 100", func(a *Args) { a.Experiment.Value = 150 }, []string{"Experiment.Value:", "between 1 and 100"}},
		{"negative percent", func(a *Args) { a.Experiment.Value = -5 }, []string{"Experiment.Value:"}},
		{"value with mode all", func(a *Args) { a.Experiment.Mode, a.Experiment.Value = All, 3 }, []string{"Experiment.Value:", "takes no value"}},
		{"fixed without value", func(a *Args) { a.Experiment.Mode = Fixed }, []string{"Experiment.Value:", "at least 1"}},
		{"bad duration", func(a *Args) { a.Experiment.Duration = "a minute" }, []string{"Experiment.Duration:"}},
		{"negative duration", func(a *Args) { a.Experiment.Duration = "-5s" }, []string{"Experiment.Duration:", "above zero"}},
		{"duration on pod-kill", func(a *Args) {
			a.Experiment.Action, a.Experiment.Duration = PodKill, "30s"
		}, []string{"Experiment.Duration:", "instantaneous"}},
		{"grace period on pod-failure", func(a *Args) { a.Experiment.GracePeriodSeconds = 10 }, []string{"Experiment.GracePeriodSeconds:"}},
		{"bad cron", func(a *Args) { a.Experiment.Schedule = "every monday" }, []string{"Experiment.Schedule:"}},
		{"runs overlap", func(a *Args) {
			a.Experiment.Schedule, a.Experiment.Duration = "*/5 * * * *", "10m"
		}, []string{"Experiment.Duration:", "not shorter than the 5m0s between runs"}},
		{"bad experiment name", func(a *Args) { a.Experiment.Name = "Pod_Failure" }, []string{"Experiment.Name:"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mocktest.RequireRejected(t, mocktest.Construct(NewMesh, "chaos", args(tc.mod)), tc.wants...)
		})
	}
	mocktest.RequireRejected(t, mocktest.Construct(NewMesh, "chaos", nil), "chaos.NewMesh: args are required")
}

// CheckSettings is what the infra program validates its config key with:
// the same checks, after the same defaults, under the caller's names.
func TestCheckSettingsNamesTheCallersKeys(t *testing.T) {
	key := func(field string) string { return "cfg:" + field }
	c := kube.NewChecker("stack config")
	CheckSettings(c, Args{}, key)
	require.NoError(t, c.Err(), "the defaults are valid")

	c = kube.NewChecker("stack config")
	CheckSettings(c, Args{Runtime: "rkt", Experiment: Experiment{Action: PodKill, Duration: "30s", Schedule: "often"}}, key)
	err := c.Err()
	require.Error(t, err)
	for _, want := range []string{`cfg:Runtime: is "rkt"`, "cfg:Experiment.Duration:", "cfg:Experiment.Schedule:"} {
		require.ErrorContains(t, err, want)
	}
	require.NotContains(t, err.Error(), "TargetNamespace", "the target is the caller's, checked by NewMesh")

	c = kube.NewChecker("stack config")
	CheckSettings(c, Args{Experiment: Experiment{Schedule: "*/5 * * * *", Duration: "10m"}}, key)
	require.ErrorContains(t, c.Err(), `cfg:Experiment.Duration: is 10m0s, not shorter than the 5m0s between runs of cfg:Experiment.Schedule "*/5 * * * *"`)
}

func TestShortestGap(t *testing.T) {
	for _, tc := range []struct {
		schedule string
		want     time.Duration
	}{
		{"*/30 * * * *", 30 * time.Minute},
		{"@hourly", time.Hour},
		{"0 10 * * 1-5", 24 * time.Hour}, // weekdays: the weekend gap is longer, Monday to Friday a day
		{"0 3 * * 0", 7 * 24 * time.Hour},
		{"0 0 29 2 *", (4*365 + 1) * 24 * time.Hour}, // leap days: 2028-02-29, 2032-02-29, ...
	} {
		t.Run(tc.schedule, func(t *testing.T) {
			s, err := cron.ParseStandard(tc.schedule)
			require.NoError(t, err)
			require.Equal(t, tc.want, shortestGap(s))
		})
	}
}
