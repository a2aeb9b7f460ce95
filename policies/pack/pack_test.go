package pack

import (
	"context"
	"testing"

	"github.com/mobile-mm-llm/mobile-mm-llm/policies"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
	"github.com/stretchr/testify/require"
)

// recorder is a policyx.PolicyManager that keeps what is reported.
type recorder struct{ messages, urns []string }

func (r *recorder) ReportViolation(message, urn string) {
	r.messages = append(r.messages, message)
	r.urns = append(r.urns, urn)
}

func props(t *testing.T, v map[string]any) property.Map {
	t.Helper()
	return resource.FromResourcePropertyMap(resource.NewPropertyMapFromMap(v))
}

// privileged is a Deployment whose only container runs privileged.
func privileged(t *testing.T) policyx.AnalyzerResource {
	return policyx.AnalyzerResource{
		URN:  "urn:pulumi:dev::mobile-mm-llm::kubernetes:apps/v1:Deployment::api",
		Type: "kubernetes:apps/v1:Deployment",
		Name: "api",
		Properties: props(t, map[string]any{
			"metadata": map[string]any{"name": "api", "namespace": "mmllm"},
			"spec": map[string]any{"template": map[string]any{
				"metadata": map[string]any{"labels": map[string]any{"app": "api"}},
				"spec": map[string]any{"containers": []any{map[string]any{
					"name": "api", "image": "api:1", "securityContext": map[string]any{"privileged": true},
				}}},
			}},
		}),
	}
}

// devPack is the pack for a development stack.
func devPack(t *testing.T) policyx.PolicyPack {
	t.Helper()
	set, err := policies.DefaultSet()
	require.NoError(t, err)
	p, err := New(set, policies.StackInfo{Name: "dev"})
	require.NoError(t, err)
	return p
}

func policyNamed(t *testing.T, p policyx.PolicyPack, name string) policyx.Policy {
	t.Helper()
	for _, pol := range p.Policies() {
		if pol.Name() == name {
			return pol
		}
	}
	t.Fatalf("no policy %s", name)
	return nil
}

func TestEveryRuleBecomesAPolicy(t *testing.T) {
	set, err := policies.DefaultSet()
	require.NoError(t, err)
	p, err := New(set, policies.StackInfo{Name: "dev"})
	require.NoError(t, err)
	require.Equal(t, Name, p.Name())
	require.Equal(t, Version, p.Version().String())

	rules := set.Rules()
	require.Len(t, p.Policies(), len(rules))
	for i, rule := range rules {
		pol := p.Policies()[i]
		require.Equal(t, rule.ID, pol.Name())
		require.Equal(t, rule.Description, pol.Description())
		want := policyx.EnforcementLevelAdvisory
		if rule.Severity == policies.Mandatory {
			want = policyx.EnforcementLevelMandatory
		}
		require.Equal(t, want, pol.EnforcementLevel(), rule.ID)
		_, isStack := pol.(policyx.StackValidationPolicy)
		_, isResource := pol.(policyx.ResourceValidationPolicy)
		require.Equal(t, rule.IsStackRule(), isStack, rule.ID)
		require.Equal(t, !rule.IsStackRule(), isResource, rule.ID)
	}
}

func TestResourcePolicyReportsViolations(t *testing.T) {
	p := devPack(t)
	pol := policyNamed(t, p, "k8s-no-privileged").(policyx.ResourceValidationPolicy)

	var rec recorder
	require.NoError(t, pol.Validate(context.Background(), policyx.ResourceValidationArgs{Manager: &rec, Resource: privileged(t)}))
	require.Len(t, rec.messages, 1)
	require.Contains(t, rec.messages[0], `Deployment "api": container "api" runs privileged`)
	require.Equal(t, privileged(t).URN, rec.urns[0])

	// A compliant resource of another kind reports nothing.
	rec = recorder{}
	other := policyx.AnalyzerResource{URN: "urn:x", Type: "aws:s3/bucketV2:BucketV2", Name: "models", Properties: props(t, map[string]any{})}
	require.NoError(t, pol.Validate(context.Background(), policyx.ResourceValidationArgs{Manager: &rec, Resource: other}))
	require.Empty(t, rec.messages)
}

func TestProviderPropertiesReachTheRules(t *testing.T) {
	p := devPack(t)
	pol := policyNamed(t, p, "cloud-required-tags").(policyx.ResourceValidationPolicy)
	key := policyx.AnalyzerResource{URN: "urn:key", Type: "aws:kms/key:Key", Name: "k", Properties: props(t, map[string]any{"enableKeyRotation": true})}

	var rec recorder
	require.NoError(t, pol.Validate(context.Background(), policyx.ResourceValidationArgs{Manager: &rec, Resource: key}))
	require.Len(t, rec.messages, 1, "no tags anywhere")

	key.Provider = policyx.AnalyzerProviderResource{Type: "pulumi:providers:aws", Properties: props(t, map[string]any{
		"defaultTags": `{"tags":{"environment":"dev","owner":"platform","cost-center":"ml-42"}}`,
	})}
	rec = recorder{}
	require.NoError(t, pol.Validate(context.Background(), policyx.ResourceValidationArgs{Manager: &rec, Resource: key}))
	require.Empty(t, rec.messages)
}

func TestStackPolicyReportsViolations(t *testing.T) {
	p := devPack(t)
	pol := policyNamed(t, p, "k8s-pdb-per-deployment").(policyx.StackValidationPolicy)

	var rec recorder
	require.NoError(t, pol.Validate(context.Background(), policyx.StackValidationArgs{Manager: &rec,
		Resources: []policyx.AnalyzerResource{privileged(t)}}))
	require.Len(t, rec.messages, 1)
	require.Contains(t, rec.messages[0], `Deployment "api": has no PodDisruptionBudget`)
	require.Equal(t, privileged(t).URN, rec.urns[0])
}

func TestFactoryReadsTheStack(t *testing.T) {
	set, err := policies.DefaultSet()
	require.NoError(t, err)
	for _, c := range []struct {
		stack, env string
		prod       bool
	}{
		{"staging-eu", "production", true},
		{"prod-us-east-1", "", true},
		{"dev", "", false},
	} {
		cfg := map[string]string{}
		if c.env != "" {
			cfg["mobile-mm-llm:"+EnvironmentConfigKey] = c.env
		}
		ctx, err := pulumi.NewContext(context.Background(), pulumi.RunInfo{Project: "mobile-mm-llm", Stack: c.stack, Config: cfg})
		require.NoError(t, err)
		require.Equal(t, policies.StackInfo{Name: c.stack, Production: c.prod}, StackInfo(ctx))

		p, err := Factory(set)(ctx)
		require.NoError(t, err)
		// The production floor of the autoscaler rule follows the stack.
		pol := policyNamed(t, p, "k8s-autoscaler-min-replicas").(policyx.ResourceValidationPolicy)
		hpa := policyx.AnalyzerResource{URN: "urn:hpa", Type: "kubernetes:autoscaling/v2:HorizontalPodAutoscaler", Name: "api",
			Properties: props(t, map[string]any{"spec": map[string]any{"minReplicas": 2}})}
		var rec recorder
		require.NoError(t, pol.Validate(context.Background(), policyx.ResourceValidationArgs{Manager: &rec, Resource: hpa}))
		require.Equal(t, c.prod, len(rec.messages) == 1, c.stack)
	}
}
