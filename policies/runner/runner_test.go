package runner

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/mobile-mm-llm/mobile-mm-llm/policies"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/require"
)

const project = "demo"

func TestParseStack(t *testing.T) {
	data := []byte(`
secretsprovider: passphrase
encryptionsalt: v1:abc
config:
  demo:name: web
  replicas: 3
  demo:ratio: 0.5
  demo:debug: true
  demo:empty:
  demo:token:
    secure: v1:c2VjcmV0
  demo:nested:
    list: [1, "two", {secure: v1:eA==}]
    map: {a: b}
  kubernetes:context: kind
`)
	sf, err := ParseStack("dev", "Pulumi.dev.yaml", data, project)
	require.NoError(t, err)
	require.Equal(t, map[string]string{
		"demo:name":          "web",
		"demo:replicas":      "3",
		"demo:ratio":         "0.5",
		"demo:debug":         "true",
		"demo:empty":         "",
		"demo:token":         Placeholder("demo:token"),
		"demo:nested":        `{"list":[1,"two","` + Placeholder("demo:nested.list[2]") + `"],"map":{"a":"b"}}`,
		"kubernetes:context": "kind",
	}, sf.Config)
	require.Equal(t, []string{"demo:nested", "demo:token"}, sf.SecretKeys)
	require.Equal(t, "", sf.Environment(project))
	require.GreaterOrEqual(t, len(Placeholder("demo:x")), 16, "passes length checks")
}

func TestParseStackErrors(t *testing.T) {
	tests := []struct{ name, data, want string }{
		{"not yaml", "config: [", `stack "s": Pulumi.s.yaml: yaml:`},
		{"config not a map", "config: [a, b]\n", `stack "s": Pulumi.s.yaml: yaml:`},
		{"esc", "environment: [prod-secrets]\nconfig: {}\n", "imports Pulumi ESC environments"},
		{"bad key", "config:\n  ':x': 1\n", `config key ":x" is not NAMESPACE:KEY`},
		{"non-string map key", "config:\n  demo:m: {1: a}\n", `config key "demo:m": has a value of unsupported type`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseStack("s", "Pulumi.s.yaml", []byte(tt.data), project)
			require.ErrorContains(t, err, tt.want)
		})
	}
}

func TestStackFilesInADirectory(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"Pulumi.b.yaml", "Pulumi.a-1.yaml", "Pulumi.yaml.bak", "README.md", "Pulumi..yaml"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, f), []byte("config: {}\n"), 0o644))
	}
	require.NoError(t, os.Mkdir(filepath.Join(dir, "Pulumi.dir.yaml"), 0o755))
	names, err := ListStacks(dir)
	require.NoError(t, err)
	require.Equal(t, []string{"a-1", "b"}, names, "only files named Pulumi.<valid stack name>.yaml")

	sf, err := LoadStack(dir, "a-1", project)
	require.NoError(t, err)
	require.Equal(t, filepath.Join(dir, "Pulumi.a-1.yaml"), sf.Path)

	for name, want := range map[string]string{
		"":        `invalid stack name ""`,
		"..":      `invalid stack name ".."`,
		"a/b":     `invalid stack name "a/b"`,
		"missing": "no file " + filepath.Join(dir, "Pulumi.missing.yaml") + "; the stacks in " + dir + " are: a-1, b",
	} {
		_, err := LoadStack(dir, name, project)
		require.ErrorContains(t, err, want, name)
	}
}

// service is a fake program: a Kubernetes provider from secret config and a
// Service of the configured type, in a component; it exports nothing.
func service(ctx *pulumi.Context) error {
	var comp pulumi.ResourceState
	if err := ctx.RegisterComponentResource("demo:web:Frontend", "web", &comp); err != nil {
		return err
	}
	kubeconfig, ok := ctx.GetConfig("demo:kubeconfig")
	if !ok || !ctx.IsConfigSecret("demo:kubeconfig") {
		return errFake("demo:kubeconfig must be a secret")
	}
	var prov pulumi.ProviderResourceState
	if err := ctx.RegisterResource("pulumi:providers:kubernetes", "k8s", pulumi.Map{
		"kubeconfig": pulumi.ToSecret(pulumi.String(kubeconfig)),
	}, &prov, pulumi.Parent(&comp)); err != nil {
		return err
	}
	typ, _ := ctx.GetConfig("demo:serviceType")
	var svc pulumi.CustomResourceState
	return ctx.RegisterResource("kubernetes:core/v1:Service", "web-svc", pulumi.Map{
		"metadata": pulumi.Map{"name": pulumi.String("web"), "labels": pulumi.StringMap{"app.kubernetes.io/part-of": pulumi.String("demo")}},
		"spec":     pulumi.Map{"type": pulumi.String(typ)},
	}, &svc, pulumi.Parent(&comp), pulumi.Provider(&prov))
}

type errFake string

func (e errFake) Error() string { return string(e) }

func fakeProgram() Program {
	return Program{Project: project, Run: service, Keys: []string{"serviceType", "environment", "kubeconfig"}, SecretKeys: []string{"kubeconfig"}}
}

func stackFile(name string, kv ...string) *StackFile {
	sf := &StackFile{Name: name, Path: "Pulumi." + name + ".yaml", Config: map[string]string{}}
	for i := 0; i+1 < len(kv); i += 2 {
		sf.Config[kv[i]] = kv[i+1]
	}
	return sf
}

func TestExecuteRecordsWithConfigAndPlaceholders(t *testing.T) {
	rec, err := fakeProgram().Execute(stackFile("dev", "demo:serviceType", "ClusterIP", "aws:region", "eu-west-1"))
	require.NoError(t, err)
	regs := rec.Registrations()
	var types []string
	for _, r := range regs {
		types = append(types, r.Type)
	}
	require.Equal(t, []string{"demo:web:Frontend", "pulumi:providers:kubernetes", "kubernetes:core/v1:Service"}, types)
	prov, svc := regs[1], regs[2]
	require.Equal(t, "urn:pulumi:dev::demo::demo:web:Frontend$pulumi:providers:kubernetes::k8s", prov.URN)
	require.Equal(t, prov.URN+"::"+prov.ID, svc.Provider)
	require.Equal(t, regs[0].URN, svc.Parent)
	require.True(t, prov.Inputs["kubeconfig"].IsSecret())

	res := rec.PolicyResources()
	require.Len(t, res, 1, "components and providers are not judged")
	require.Equal(t, "kubernetes:core/v1:Service", res[0].Type)
	require.Equal(t, "web-svc", res[0].Name)
	require.Equal(t, svc.URN, res[0].URN)
	require.Equal(t, map[string]any{"kubeconfig": Placeholder("demo:kubeconfig")}, res[0].Provider)
	require.Equal(t, "ClusterIP", res[0].Props["spec"].(map[string]any)["type"])
}

func TestExecuteErrors(t *testing.T) {
	_, err := fakeProgram().Execute(stackFile("dev", "demo:serviceTyp", "ClusterIP", "demo:zz", "1"))
	require.ErrorContains(t, err, `stack "dev": Pulumi.dev.yaml: unknown config key(s) demo:serviceTyp, demo:zz; the program reads serviceType, environment, kubeconfig`)

	// A secret key given in plain text in the file stays plain: the program sees it.
	_, err = fakeProgram().Execute(stackFile("dev", "demo:kubeconfig", "plain"))
	require.ErrorContains(t, err, `stack "dev" (Pulumi.dev.yaml): the program failed: demo:kubeconfig must be a secret`)

	_, err = Program{Project: project}.Execute(stackFile("dev"))
	require.ErrorContains(t, err, "needs Run and Project")

	invoke := fakeProgram()
	invoke.Run = func(ctx *pulumi.Context) error {
		var out map[string]any
		return ctx.Invoke("aws:index/getRegion:getRegion", nil, &out)
	}
	_, err = invoke.Execute(stackFile("dev"))
	require.ErrorContains(t, err, "invoke aws:index/getRegion:getRegion: the policy runner has no result for provider functions")
}

func TestCheckAppliesTheStacksEnvironment(t *testing.T) {
	set, err := policies.DefaultSet()
	require.NoError(t, err)
	res, err := fakeProgram().Check(stackFile("web", "demo:serviceType", "NodePort", "demo:environment", "production"), set)
	require.NoError(t, err)
	require.Equal(t, policies.StackInfo{Name: "web", Production: true}, res.Info)
	require.True(t, res.Failed())
	var ids []string
	for _, v := range res.Report.Violations {
		ids = append(ids, v.RuleID)
	}
	require.Contains(t, ids, "k8s-no-public-services")
	require.Contains(t, ids, "production-alert-rules", "the production rules applied")

	res, err = fakeProgram().Check(stackFile("web", "demo:serviceType", "ClusterIP", "demo:environment", "dev"), set)
	require.NoError(t, err)
	require.False(t, res.Info.Production)
	require.False(t, res.Failed(), "%v", res.Report.Violations)
	require.Equal(t, 1, len(res.Resources))

	_, err = fakeProgram().Check(stackFile("web"), nil)
	require.ErrorContains(t, err, "no policy set")
	empty := fakeProgram()
	empty.Run = func(*pulumi.Context) error { return nil }
	_, err = empty.Check(stackFile("web"), set)
	require.ErrorContains(t, err, "registered no resources")
}
