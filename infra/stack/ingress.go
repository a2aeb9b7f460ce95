package stack

import (
	"cmp"
	"fmt"

	"github.com/mobile-mm-llm/mobile-mm-llm/components/kube"
	"github.com/mobile-mm-llm/mobile-mm-llm/components/workload"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// defaultIngressClass is the workload component's default IngressClass.
const defaultIngressClass = "nginx"

// newGlobalIngress routes ingress.globalHost, the global stack's name, to
// the server's Service, like the workload's own Ingress does for
// ingress.host: clients resolve the global name to this region's endpoint
// (a CNAME of the global stack) and send it as Host and SNI, so the region
// must answer to it. The certificate Secret is the same and must cover
// both names.
func newGlobalIngress(ctx *pulumi.Context, name string, cfg *Config, server *workload.Inference, opts ...pulumi.ResourceOption) (*networkingv1.Ingress, error) {
	in := cfg.Ingress
	meta := kube.Metadata(workload.DefaultAppName+"-global", cfg.Namespace,
		kube.Labels(kube.DefaultPartOf, workload.DefaultAppName, name, "ingress"))
	meta.Annotations = kube.StringMap(in.Annotations)
	ing, err := networkingv1.NewIngress(ctx, name, &networkingv1.IngressArgs{
		Metadata: meta,
		Spec: &networkingv1.IngressSpecArgs{
			IngressClassName: pulumi.String(cmp.Or(in.ClassName, defaultIngressClass)),
			Tls: networkingv1.IngressTLSArray{networkingv1.IngressTLSArgs{
				Hosts: kube.StringArray(in.GlobalHost), SecretName: pulumi.String(in.TLSSecretName),
			}},
			Rules: networkingv1.IngressRuleArray{networkingv1.IngressRuleArgs{
				Host: pulumi.String(in.GlobalHost),
				Http: &networkingv1.HTTPIngressRuleValueArgs{Paths: networkingv1.HTTPIngressPathArray{
					networkingv1.HTTPIngressPathArgs{
						Path: pulumi.String("/"), PathType: pulumi.String("Prefix"),
						Backend: &networkingv1.IngressBackendArgs{Service: &networkingv1.IngressServiceBackendArgs{
							Name: server.ServiceName,
							Port: &networkingv1.ServiceBackendPortArgs{Name: pulumi.String(workload.APIPortName)},
						}},
					},
				}},
			}},
		},
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("ingress for %s: %w", in.GlobalHost, err)
	}
	return ing, nil
}
