package runner

import (
	"encoding/base64"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/require"
)

// greeter is a fake program: it exports a greeting and a secret token; with
// demo:ref set it reads that stack's outputs through a StackReference and
// exports what it saw.
func greeter(ctx *pulumi.Context) error {
	ctx.Export("greeting", pulumi.String("hello from "+ctx.Stack()))
	ctx.Export("token", pulumi.ToSecret(pulumi.String("s3cret")))
	ref, ok := ctx.GetConfig("demo:ref")
	if !ok {
		return nil
	}
	sr, err := pulumi.NewStackReference(ctx, "upstream", &pulumi.StackReferenceArgs{Name: pulumi.String(ref)})
	if err != nil {
		return err
	}
	ctx.Export("seen", sr.GetStringOutput(pulumi.String("greeting")))
	token := sr.GetOutput(pulumi.String("token"))
	ctx.Export("tokenIsSecret", pulumi.String(strconv.FormatBool(pulumi.IsSecret(token))))
	return nil
}

// greeterStacks writes the stack files (name to demo:ref, "" for none) to a
// temporary directory and returns it.
func greeterStacks(t *testing.T, refs map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, ref := range refs {
		data := "config: {}\n"
		if ref != "" {
			data = "config:\n  demo:ref: " + ref + "\n"
		}
		require.NoError(t, os.WriteFile(filepath.Join(dir, "Pulumi."+name+".yaml"), []byte(data), 0o644))
	}
	return dir
}

func greeterProgram() Program {
	return Program{Project: project, Run: greeter, Keys: []string{"ref"}}
}

func TestStackReferencesRunTheReferencedStack(t *testing.T) {
	dir := greeterStacks(t, map[string]string{"global": "organization/demo/region", "region": ""})
	sf, err := LoadStack(dir, "global", project)
	require.NoError(t, err)
	rec, err := greeterProgram().Execute(sf)
	require.NoError(t, err)

	out := rec.StackOutputs()
	require.Equal(t, "hello from region", out["seen"].StringValue(), "the referenced stack's own output")
	require.Equal(t, "hello from global", out["greeting"].StringValue())
	require.Equal(t, "true", out["tokenIsSecret"].StringValue(), "secret outputs stay secret across the reference")
	require.True(t, out["token"].IsSecret())

	refs := rec.OfType(StackReferenceType)
	require.Len(t, refs, 1)
	require.True(t, refs[0].Read)
	require.True(t, refs[0].Custom)
	require.Equal(t, "organization/demo/region", refs[0].ID)
	require.Empty(t, rec.PolicyResources(), "reads are not judged")
}

func TestStackReferenceErrors(t *testing.T) {
	tests := []struct {
		name  string
		stack string
		refs  map[string]string
		want  string
	}{
		{"cycle", "a", map[string]string{"a": "b", "b": "o/demo/a"}, `stack reference "o/demo/a": a cycle (a -> b -> a)`},
		{"self", "a", map[string]string{"a": "a"}, `stack reference "a": a cycle (a -> a)`},
		{"other project", "a", map[string]string{"a": "o/other/b", "b": ""}, `a stack of project "other"; the runner runs only project "demo"'s program`},
		{"bad name", "a", map[string]string{"a": "o/b"}, `stack reference "o/b": use STACK or ORG/PROJECT/STACK`},
		{"missing stack", "a", map[string]string{"a": "o/demo/zz"}, `stack reference "o/demo/zz": stack "zz": no file`},
		{"failing stack", "a", map[string]string{"a": "b", "b": "o/demo/missing"}, `stack reference "b": stack "b"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := greeterStacks(t, tt.refs)
			sf, err := LoadStack(dir, tt.stack, project)
			require.NoError(t, err)
			_, err = greeterProgram().Execute(sf)
			require.ErrorContains(t, err, tt.want)
		})
	}
}

func TestHooksAnswerOutputsAndInvokes(t *testing.T) {
	p := Program{Project: project, Keys: nil, Outputs: map[string]OutputsFunc{
		"demo:index:Thing": func(args pulumi.MockResourceArgs) resource.PropertyMap {
			return obj(map[string]any{"computed": "for " + args.Name})
		},
	}, Invokes: map[string]InvokeFunc{
		"demo:index:lookup": func(args resource.PropertyMap) (resource.PropertyMap, error) {
			return obj(map[string]any{"answer": args["q"].StringValue() + "!"}), nil
		},
	}}
	p.Run = func(ctx *pulumi.Context) error {
		var thing struct {
			pulumi.CustomResourceState
			Computed pulumi.StringOutput `pulumi:"computed"`
			Input    pulumi.StringOutput `pulumi:"input"`
		}
		if err := ctx.RegisterResource("demo:index:Thing", "t1", pulumi.Map{"input": pulumi.String("in")}, &thing); err != nil {
			return err
		}
		var res struct {
			Answer string `pulumi:"answer"`
		}
		if err := ctx.Invoke("demo:index:lookup", map[string]any{"q": "why"}, &res); err != nil {
			return err
		}
		ctx.Export("computed", thing.Computed)
		ctx.Export("input", thing.Input)
		ctx.Export("answer", pulumi.String(res.Answer))
		return nil
	}
	rec, err := p.Execute(stackFile("dev"))
	require.NoError(t, err)
	out := rec.StackOutputs()
	require.Equal(t, "for t1", out["computed"].StringValue())
	require.Equal(t, "in", out["input"].StringValue(), "outputs keep the inputs")
	require.Equal(t, "why!", out["answer"].StringValue())
	require.Equal(t, 1, rec.OutputRegistrations(), "the stack's outputs")
}

func TestDefaultOutputsKeepNamesAndShapes(t *testing.T) {
	outs := DefaultOutputs()
	args := func(name string, inputs map[string]any) pulumi.MockResourceArgs {
		return pulumi.MockResourceArgs{Name: name, Inputs: resource.NewPropertyMapFromMap(inputs)}
	}
	named := outs["aws:s3/bucketV2:BucketV2"](args("models", map[string]any{"bucket": "mmllm-models"}))
	require.Equal(t, "arn:aws:s3:::mmllm-models", named["arn"].StringValue())
	auto := outs["aws:s3/bucketV2:BucketV2"](args("models", nil))
	require.Equal(t, "models-1234567", auto["bucket"].StringValue())

	eks := outs["aws:eks/cluster:Cluster"](args("c", map[string]any{"vpcConfig": map[string]any{"endpointPrivateAccess": true}}))
	vpc := eks["vpcConfig"].ObjectValue()
	require.True(t, vpc["endpointPrivateAccess"].BoolValue(), "the input's fields are kept")
	require.Equal(t, "sg-c", vpc["clusterSecurityGroupId"].StringValue())
	require.NotEmpty(t, eks["identities"].ArrayValue()[0].ObjectValue()["oidcs"].ArrayValue()[0].ObjectValue()["issuer"].StringValue())

	mem := outs["gcp:redis/instance:Instance"](args("cache", nil))
	require.Len(t, mem["serverCaCerts"].ArrayValue(), 1, "the component bundles the CAs")
	_, cidr, err := net.ParseCIDR(mem["reservedIpRange"].StringValue())
	require.NoError(t, err)
	require.True(t, cidr.Contains(net.ParseIP(mem["host"].StringValue())), "the host is in the reserved range the server's egress allows")
	require.Equal(t, "kv1", outs["azure-native:keyvault:Vault"](args("v", map[string]any{"vaultName": "kv1"}))["vaultName"].StringValue())
}

func TestDefaultInvokesAnswerAKSCredentials(t *testing.T) {
	inv := DefaultInvokes()
	res, err := inv[InvokeAKSUserCredentials](obj(map[string]any{"resourceName": "prod-weu", "resourceGroupName": "rg"}))
	require.NoError(t, err)
	kc := res["kubeconfigs"].ArrayValue()[0].ObjectValue()
	raw, err := base64.StdEncoding.DecodeString(kc["value"].StringValue())
	require.NoError(t, err)
	require.Contains(t, string(raw), "command: kubelogin")
	require.Contains(t, string(raw), "https://prod-weu.hcp.")
	require.Contains(t, string(raw), "clusterUser_rg_prod-weu")

	_, err = inv[InvokeAKSUserCredentials](obj(map[string]any{"resourceName": "prod-weu"}))
	require.ErrorContains(t, err, "resourceName and resourceGroupName are required")

	keys, err := inv[InvokeAzureRedisKeys](obj(map[string]any{"name": "cache"}))
	require.NoError(t, err)
	require.NotEmpty(t, keys["primaryKey"].StringValue())
}
