package security

import (
	"fmt"

	"github.com/mobile-mm-llm/mobile-mm-llm/components/kube"
	rbacv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/rbac/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// rule is one RBAC rule: exact API groups, resources and verbs, never "*".
type rule struct {
	groups, resources, verbs []string
}

var readVerbs = []string{"get", "list", "watch"}

// viewerRules read what the runbooks look at; Secrets are not among them.
var viewerRules = []rule{
	{[]string{""}, []string{"pods", "pods/log", "services", "endpoints", "events", "configmaps", "persistentvolumeclaims"}, readVerbs},
	{[]string{"apps"}, []string{"deployments", "replicasets", "statefulsets"}, readVerbs},
	{[]string{"autoscaling"}, []string{"horizontalpodautoscalers"}, readVerbs},
	{[]string{"keda.sh"}, []string{"scaledobjects"}, readVerbs},
	{[]string{"policy"}, []string{"poddisruptionbudgets"}, readVerbs},
	{[]string{"networking.k8s.io"}, []string{"ingresses", "networkpolicies"}, readVerbs},
	{[]string{"monitoring.coreos.com"}, []string{"servicemonitors", "prometheusrules"}, readVerbs},
	{[]string{"metrics.k8s.io"}, []string{"pods"}, []string{"get", "list"}},
}

// operatorRules add the runbooks' actions: scale, rollout restart (a patch
// of the Deployment) and deleting a stuck pod. Exec, Secrets and RBAC stay
// out: those steps are break-glass.
var operatorRules = append(append([]rule{}, viewerRules...),
	rule{[]string{"apps"}, []string{"deployments", "statefulsets"}, []string{"patch"}},
	rule{[]string{"apps"}, []string{"deployments/scale", "statefulsets/scale"}, []string{"get", "update", "patch"}},
	rule{[]string{""}, []string{"pods"}, []string{"delete"}},
)

func policyRules(rules []rule) rbacv1.PolicyRuleArray {
	out := rbacv1.PolicyRuleArray{}
	for _, r := range rules {
		out = append(out, rbacv1.PolicyRuleArgs{
			ApiGroups: kube.StringArray(r.groups...), Resources: kube.StringArray(r.resources...), Verbs: kube.StringArray(r.verbs...),
		})
	}
	return out
}

// rbac creates the viewer and operator Roles and binds the configured
// groups. The inference pods' ServiceAccount is bound to nothing: the
// server never calls the Kubernetes API.
func (b builder) rbac() (viewer, operator *rbacv1.Role, err error) {
	roles := []struct {
		suffix string
		rules  []rule
		groups []string
		out    **rbacv1.Role
	}{
		{"viewer", viewerRules, b.a.ViewerGroups, &viewer},
		{"operator", operatorRules, b.a.OperatorGroups, &operator},
	}
	for _, r := range roles {
		name := b.a.Prefix + "-" + r.suffix
		role, err := rbacv1.NewRole(b.ctx, b.name+"-"+r.suffix, &rbacv1.RoleArgs{
			Metadata: kube.Metadata(name, b.a.Namespace, b.labels),
			Rules:    policyRules(r.rules),
		}, pulumi.Parent(b.comp))
		if err != nil {
			return nil, nil, fmt.Errorf("role %s: %w", name, err)
		}
		*r.out = role
		if len(r.groups) == 0 {
			continue
		}
		subjects := rbacv1.SubjectArray{}
		for _, g := range r.groups {
			subjects = append(subjects, rbacv1.SubjectArgs{
				Kind: pulumi.String("Group"), Name: pulumi.String(g), ApiGroup: pulumi.String("rbac.authorization.k8s.io"),
			})
		}
		if _, err := rbacv1.NewRoleBinding(b.ctx, b.name+"-"+r.suffix+"-binding", &rbacv1.RoleBindingArgs{
			Metadata: kube.Metadata(name, b.a.Namespace, b.labels),
			RoleRef: &rbacv1.RoleRefArgs{
				ApiGroup: pulumi.String("rbac.authorization.k8s.io"), Kind: pulumi.String("Role"), Name: role.Metadata.Name().Elem(),
			},
			Subjects: subjects,
		}, pulumi.Parent(b.comp)); err != nil {
			return nil, nil, fmt.Errorf("role binding %s: %w", name, err)
		}
	}
	return viewer, operator, nil
}
