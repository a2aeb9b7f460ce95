// Package security is a namespace's security baseline: default-deny
// NetworkPolicies, the deployment guide's allow rules for the inference pods
// (ingress controller to the API, Prometheus to the metrics port, egress to
// Redis, DNS and HTTPS) and least-privilege RBAC roles for the people who
// run it.
package security

import (
	"cmp"
	"fmt"

	"github.com/mobile-mm-llm/mobile-mm-llm/components/kube"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// TypeToken is the Baseline component's type.
const TypeToken = "mobile-mm-llm:security:Baseline"

// Args configures a Baseline. Namespace and AppPodLabels are required.
type Args struct {
	// Namespace is the (existing) namespace to protect.
	Namespace string
	// Prefix names the objects (default "mobile-multimodal-llm").
	Prefix string
	// PartOf is the app.kubernetes.io/part-of label (default kube.DefaultPartOf).
	PartOf string
	// AppPodLabels select the inference pods (workload.Inference.SelectorLabels).
	AppPodLabels map[string]string
	// APIPort is the pods' API port (default 8080).
	APIPort int
	// MetricsPort is the pods' metrics port (default 8000).
	MetricsPort int
	// IngressNamespace is the ingress controller's namespace (default "ingress-nginx").
	IngressNamespace string
	// IngressPodLabels narrow the controller's pods; empty allows the whole namespace.
	IngressPodLabels map[string]string
	// MonitoringNamespace is Prometheus's namespace (default "monitoring").
	MonitoringNamespace string
	// MonitoringPodLabels narrow the scraping pods; empty allows the whole namespace.
	MonitoringPodLabels map[string]string
	// Redis, when set, allows the inference pods to reach it: the
	// in-cluster Redis's pods, or a managed service's addresses (CIDRs).
	Redis *Peer
	// DNS is the cluster DNS (default namespace "kube-system", pods
	// k8s-app=kube-dns, which CoreDNS keeps for compatibility).
	DNS Peer
	// HTTPSEgressCIDRs are where the inference pods may open HTTPS
	// connections (model and image downloads; default 0.0.0.0/0 and ::/0).
	HTTPSEgressCIDRs []string
	// ViewerGroups are bound to the read-only role.
	ViewerGroups []string
	// OperatorGroups are bound to the operator role (the runbooks' actions).
	OperatorGroups []string
}

// Peer is a set of pods in a namespace, or of addresses outside the
// cluster, and the port they serve on.
type Peer struct {
	// Namespace is the peer's namespace (pods only).
	Namespace string
	// PodLabels select its pods.
	PodLabels map[string]string
	// CIDRs are where a peer outside the cluster lives (a managed Redis:
	// the subnets of ElastiCache's nodes, Memorystore's reserved range,
	// the private endpoints' subnet of Azure Cache), instead of pods; an
	// element may be an output.
	CIDRs []pulumi.StringInput
	// Port is the port it serves on (DNS: 53, Redis: 6379 by default;
	// Azure Cache for Redis: 6380).
	Port int
}

// peers are the NetworkPolicy peers p stands for.
func (p Peer) peers() networkingv1.NetworkPolicyPeerArray {
	if len(p.CIDRs) == 0 {
		return networkingv1.NetworkPolicyPeerArray{kube.Peer(p.Namespace, p.PodLabels)}
	}
	var out networkingv1.NetworkPolicyPeerArray
	for _, cidr := range p.CIDRs {
		out = append(out, networkingv1.NetworkPolicyPeerArgs{IpBlock: &networkingv1.IPBlockArgs{Cidr: cidr}})
	}
	return out
}

// Baseline is a namespace's NetworkPolicies and RBAC roles.
type Baseline struct {
	pulumi.ResourceState

	// NetworkPolicies are the names of the created NetworkPolicies.
	NetworkPolicies pulumi.StringArrayOutput `pulumi:"networkPolicies"`
	// ViewerRole is the read-only Role's name.
	ViewerRole pulumi.StringOutput `pulumi:"viewerRole"`
	// OperatorRole is the runbook actions' Role's name.
	OperatorRole pulumi.StringOutput `pulumi:"operatorRole"`
}

func (args Args) withDefaults() Args {
	a := args
	a.Prefix = cmp.Or(a.Prefix, "mobile-multimodal-llm")
	a.PartOf = cmp.Or(a.PartOf, kube.DefaultPartOf)
	a.APIPort = cmp.Or(a.APIPort, 8080)
	a.MetricsPort = cmp.Or(a.MetricsPort, 8000)
	a.IngressNamespace = cmp.Or(a.IngressNamespace, "ingress-nginx")
	a.MonitoringNamespace = cmp.Or(a.MonitoringNamespace, "monitoring")
	if a.Redis != nil {
		r := *a.Redis
		if len(r.CIDRs) == 0 {
			r.Namespace = cmp.Or(r.Namespace, a.Namespace)
		}
		r.Port = cmp.Or(r.Port, 6379)
		a.Redis = &r
	}
	a.DNS.Namespace = cmp.Or(a.DNS.Namespace, "kube-system")
	if len(a.DNS.PodLabels) == 0 {
		a.DNS.PodLabels = map[string]string{"k8s-app": "kube-dns"}
	}
	a.DNS.Port = cmp.Or(a.DNS.Port, 53)
	if len(a.HTTPSEgressCIDRs) == 0 {
		a.HTTPSEgressCIDRs = []string{"0.0.0.0/0", "::/0"}
	}
	return a
}

func (a Args) validate() error {
	c := kube.NewChecker("security.NewBaseline")
	c.Name("Namespace", a.Namespace)
	c.Name("Prefix", a.Prefix)
	c.Labels("PartOf", map[string]string{kube.PartOfLabel: a.PartOf}, true)
	c.Labels("AppPodLabels", a.AppPodLabels, true)
	c.Port("APIPort", a.APIPort)
	c.Port("MetricsPort", a.MetricsPort)
	c.Name("IngressNamespace", a.IngressNamespace)
	c.Labels("IngressPodLabels", a.IngressPodLabels, false)
	c.Name("MonitoringNamespace", a.MonitoringNamespace)
	c.Labels("MonitoringPodLabels", a.MonitoringPodLabels, false)
	if r := a.Redis; r != nil && len(r.CIDRs) > 0 {
		if len(r.PodLabels) > 0 || r.Namespace != "" {
			c.Failf("Redis.CIDRs", "exclude Redis.Namespace and Redis.PodLabels: the peer is pods or addresses")
		}
		for i, cidr := range r.CIDRs {
			key := fmt.Sprintf("Redis.CIDRs[%d]", i)
			switch v, plain := cidr.(pulumi.String); {
			case cidr == nil:
				c.Failf(key, "is nil")
			case plain:
				c.CIDR(key, string(v))
			}
		}
		c.Port("Redis.Port", r.Port)
	} else if r != nil {
		c.Name("Redis.Namespace", r.Namespace)
		c.Labels("Redis.PodLabels", r.PodLabels, true)
		c.Port("Redis.Port", r.Port)
	}
	c.Name("DNS.Namespace", a.DNS.Namespace)
	c.Labels("DNS.PodLabels", a.DNS.PodLabels, true)
	c.Port("DNS.Port", a.DNS.Port)
	for i, cidr := range a.HTTPSEgressCIDRs {
		c.CIDR(fmt.Sprintf("HTTPSEgressCIDRs[%d]", i), cidr)
	}
	for i, g := range a.ViewerGroups {
		c.Required(fmt.Sprintf("ViewerGroups[%d]", i), g)
	}
	for i, g := range a.OperatorGroups {
		c.Required(fmt.Sprintf("OperatorGroups[%d]", i), g)
	}
	return c.Err()
}

// NewBaseline creates the NetworkPolicies and RBAC roles of a namespace.
// Pass the Kubernetes provider with pulumi.Provider, and pulumi.DependsOn
// the component that creates the namespace.
func NewBaseline(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*Baseline, error) {
	if err := kube.CheckCall("security.NewBaseline", name, args); err != nil {
		return nil, err
	}
	a := args.withDefaults()
	if err := a.validate(); err != nil {
		return nil, err
	}
	comp := &Baseline{}
	if err := ctx.RegisterComponentResource(TypeToken, name, comp, opts...); err != nil {
		return nil, fmt.Errorf("security.NewBaseline %q: %w", name, err)
	}
	b := builder{ctx: ctx, name: name, a: a, comp: comp, labels: kube.Labels(a.PartOf, a.Prefix, name, "security")}
	if err := b.build(); err != nil {
		return nil, fmt.Errorf("security.NewBaseline %q: %w", name, err)
	}
	return comp, nil
}

type builder struct {
	ctx    *pulumi.Context
	name   string
	a      Args
	comp   *Baseline
	labels map[string]string
}

func (b builder) build() error {
	pols, err := b.networkPolicies()
	if err != nil {
		return err
	}
	var names pulumi.StringArray
	for _, p := range pols {
		names = append(names, p.Metadata.Name().Elem())
	}
	viewer, operator, err := b.rbac()
	if err != nil {
		return err
	}
	b.comp.NetworkPolicies = names.ToStringArrayOutput()
	b.comp.ViewerRole = viewer.Metadata.Name().Elem()
	b.comp.OperatorRole = operator.Metadata.Name().Elem()
	return b.ctx.RegisterResourceOutputs(b.comp, pulumi.Map{
		"networkPolicies": b.comp.NetworkPolicies,
		"viewerRole":      b.comp.ViewerRole,
		"operatorRole":    b.comp.OperatorRole,
	})
}

// policy is one NetworkPolicy of the baseline.
type policy struct {
	suffix  string
	pods    map[string]string // empty: every pod of the namespace
	types   []string
	ingress networkingv1.NetworkPolicyIngressRuleArray
	egress  networkingv1.NetworkPolicyEgressRuleArray
}

func (b builder) networkPolicies() ([]*networkingv1.NetworkPolicy, error) {
	a := b.a
	appEgress := networkingv1.NetworkPolicyEgressRuleArray{}
	if a.Redis != nil {
		appEgress = append(appEgress, networkingv1.NetworkPolicyEgressRuleArgs{
			To:    a.Redis.peers(),
			Ports: kube.Ports("TCP", a.Redis.Port),
		})
	}
	var blocks networkingv1.NetworkPolicyPeerArray
	for _, cidr := range a.HTTPSEgressCIDRs {
		blocks = append(blocks, networkingv1.NetworkPolicyPeerArgs{IpBlock: &networkingv1.IPBlockArgs{Cidr: pulumi.String(cidr)}})
	}
	appEgress = append(appEgress, networkingv1.NetworkPolicyEgressRuleArgs{To: blocks, Ports: kube.Ports("TCP", 443)})

	policies := []policy{
		// Nothing in or out unless another policy allows it.
		{suffix: "default-deny", types: []string{"Ingress", "Egress"}},
		// Every pod may resolve names.
		{suffix: "allow-dns", types: []string{"Egress"}, egress: networkingv1.NetworkPolicyEgressRuleArray{
			networkingv1.NetworkPolicyEgressRuleArgs{
				To:    networkingv1.NetworkPolicyPeerArray{kube.Peer(a.DNS.Namespace, a.DNS.PodLabels)},
				Ports: append(kube.Ports("UDP", a.DNS.Port), kube.Ports("TCP", a.DNS.Port)...),
			},
		}},
		// The ingress controller reaches the API; Prometheus the metrics.
		{suffix: "inference-ingress", pods: a.AppPodLabels, types: []string{"Ingress"}, ingress: networkingv1.NetworkPolicyIngressRuleArray{
			networkingv1.NetworkPolicyIngressRuleArgs{
				From:  networkingv1.NetworkPolicyPeerArray{kube.Peer(a.IngressNamespace, a.IngressPodLabels)},
				Ports: kube.Ports("TCP", a.APIPort),
			},
			networkingv1.NetworkPolicyIngressRuleArgs{
				From:  networkingv1.NetworkPolicyPeerArray{kube.Peer(a.MonitoringNamespace, a.MonitoringPodLabels)},
				Ports: kube.Ports("TCP", a.MetricsPort),
			},
		}},
		// The inference pods reach Redis and HTTPS endpoints.
		{suffix: "inference-egress", pods: a.AppPodLabels, types: []string{"Egress"}, egress: appEgress},
	}
	var out []*networkingv1.NetworkPolicy
	for _, p := range policies {
		spec := &networkingv1.NetworkPolicySpecArgs{
			PodSelector: &metav1.LabelSelectorArgs{MatchLabels: kube.StringMap(p.pods)},
			PolicyTypes: kube.StringArray(p.types...),
		}
		if len(p.ingress) > 0 {
			spec.Ingress = p.ingress
		}
		if len(p.egress) > 0 {
			spec.Egress = p.egress
		}
		np, err := networkingv1.NewNetworkPolicy(b.ctx, b.name+"-"+p.suffix, &networkingv1.NetworkPolicyArgs{
			Metadata: kube.Metadata(a.Prefix+"-"+p.suffix, a.Namespace, b.labels),
			Spec:     spec,
		}, pulumi.Parent(b.comp))
		if err != nil {
			return nil, fmt.Errorf("network policy %s: %w", p.suffix, err)
		}
		out = append(out, np)
	}
	return out, nil
}
