// Package workload is the inference server on Kubernetes: its Namespace,
// ServiceAccount, API tokens Secret, Deployment, Service,
// PodDisruptionBudget, TLS Ingress and the KEDA ScaledObject that scales it
// on CPU, memory and the server's queue length.
package workload

import (
	"fmt"

	"github.com/mobile-mm-llm/mobile-mm-llm/components/kube"
	appsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apps/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	policyv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/policy/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// TypeToken is the Inference component's type.
const TypeToken = "mobile-mm-llm:workload:Inference"

// Inference is the deployed inference server.
type Inference struct {
	pulumi.ResourceState

	// Namespace is the created namespace's name.
	Namespace pulumi.StringOutput `pulumi:"namespace"`
	// DeploymentName is the Deployment's name.
	DeploymentName pulumi.StringOutput `pulumi:"deploymentName"`
	// ServiceName is the ClusterIP Service's name.
	ServiceName pulumi.StringOutput `pulumi:"serviceName"`
	// ServiceAccountName is the pods' ServiceAccount.
	ServiceAccountName pulumi.StringOutput `pulumi:"serviceAccountName"`
	// URL is the public https URL.
	URL pulumi.StringOutput `pulumi:"url"`
	// ScaledObjectName is the KEDA ScaledObject's name.
	ScaledObjectName pulumi.StringOutput `pulumi:"scaledObjectName"`

	// SelectorLabels select the server's pods and Service (for
	// NetworkPolicies and ServiceMonitors); known when NewInference returns.
	SelectorLabels map[string]string
	// PodLabels are all the pods' labels, including the guide's app label.
	PodLabels map[string]string
}

// NewInference deploys the inference server. Pass the Kubernetes provider
// with pulumi.Provider; every child is parented to the component.
func NewInference(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*Inference, error) {
	if err := kube.CheckCall("workload.NewInference", name, args); err != nil {
		return nil, err
	}
	a := args.withDefaults()
	if err := a.validate(); err != nil {
		return nil, err
	}
	comp := &Inference{
		SelectorLabels: kube.Selector(a.AppName, name),
	}
	comp.PodLabels = kube.Merge(kube.Labels(a.PartOf, a.AppName, name, "inference"), map[string]string{"app": a.AppName})
	if err := ctx.RegisterComponentResource(TypeToken, name, comp, opts...); err != nil {
		return nil, fmt.Errorf("workload.NewInference %q: %w", name, err)
	}
	b := &builder{ctx: ctx, name: name, a: a, comp: comp, labels: kube.Labels(a.PartOf, a.AppName, name, "inference")}
	if err := b.build(); err != nil {
		return nil, fmt.Errorf("workload.NewInference %q: %w", name, err)
	}
	return comp, nil
}

// builder creates the children of one Inference.
type builder struct {
	ctx    *pulumi.Context
	name   string
	a      Args
	comp   *Inference
	labels map[string]string
	ns     pulumi.StringOutput
	// redisSecret and redisCA name the Secret with the Redis password and
	// the ConfigMap with its CA (nil when there is none).
	redisSecret, redisCA pulumi.StringInput
}

// opts parents a child to the component and makes it wait for deps.
func (b *builder) opts(deps ...pulumi.Resource) []pulumi.ResourceOption {
	o := []pulumi.ResourceOption{pulumi.Parent(b.comp)}
	if len(deps) > 0 {
		o = append(o, pulumi.DependsOn(deps))
	}
	return o
}

// meta is the metadata of a namespaced child; the namespace comes from the
// Namespace resource, so every child waits for it.
func (b *builder) meta(name string) *metav1.ObjectMetaArgs {
	m := kube.Metadata(name, "", b.labels)
	m.Namespace = b.ns
	return m
}

func (b *builder) build() error {
	a := b.a
	ns, err := kube.NewNamespace(b.ctx, b.name+"-namespace", a.Namespace, kube.PodSecurityRestricted, b.labels, b.opts()...)
	if err != nil {
		return err
	}
	b.ns = ns.Metadata.Name().Elem()
	sa, err := kube.NewServiceAccount(b.ctx, b.name+"-sa", a.AppName, "", b.labels, b.opts(ns)...)
	if err != nil {
		return err
	}
	tokens, err := corev1.NewSecret(b.ctx, b.name+"-api-tokens", &corev1.SecretArgs{
		Metadata:   b.meta(a.AppName + "-api-tokens"),
		Type:       pulumi.String("Opaque"),
		StringData: pulumi.StringMap{TokensKey: pulumi.ToSecret(a.APITokens.ToStringOutput()).(pulumi.StringOutput)},
	}, b.opts()...)
	if err != nil {
		return fmt.Errorf("API tokens secret: %w", err)
	}
	if err := b.redisFiles(); err != nil {
		return err
	}
	dep, err := appsv1.NewDeployment(b.ctx, b.name+"-deployment", &appsv1.DeploymentArgs{
		Metadata: b.meta(a.AppName),
		Spec:     b.deploymentSpec(sa.Metadata.Name().Elem(), tokens.Metadata.Name().Elem()),
	}, b.opts()...)
	if err != nil {
		return fmt.Errorf("deployment: %w", err)
	}
	svc, err := corev1.NewService(b.ctx, b.name+"-service", &corev1.ServiceArgs{
		Metadata: b.meta(a.AppName),
		Spec: &corev1.ServiceSpecArgs{
			Type:     pulumi.String("ClusterIP"),
			Selector: kube.StringMap(b.comp.SelectorLabels),
			Ports: corev1.ServicePortArray{
				corev1.ServicePortArgs{Name: pulumi.String(APIPortName), Port: pulumi.Int(APIPort), TargetPort: pulumi.String(APIPortName), Protocol: pulumi.String("TCP")},
				corev1.ServicePortArgs{Name: pulumi.String(MetricsPortName), Port: pulumi.Int(MetricsPort), TargetPort: pulumi.String(MetricsPortName), Protocol: pulumi.String("TCP")},
			},
		},
	}, b.opts()...)
	if err != nil {
		return fmt.Errorf("service: %w", err)
	}
	if _, err := policyv1.NewPodDisruptionBudget(b.ctx, b.name+"-pdb", &policyv1.PodDisruptionBudgetArgs{
		Metadata: b.meta(a.AppName),
		Spec: &policyv1.PodDisruptionBudgetSpecArgs{
			MaxUnavailable: pulumi.Int(a.PDBMaxUnavailable),
			Selector:       kube.MatchLabels(b.comp.SelectorLabels),
		},
	}, b.opts()...); err != nil {
		return fmt.Errorf("pod disruption budget: %w", err)
	}
	if _, err := b.ingress(svc); err != nil {
		return err
	}
	so, err := b.scaledObject(dep, svc)
	if err != nil {
		return err
	}
	b.comp.Namespace = b.ns
	b.comp.DeploymentName = dep.Metadata.Name().Elem()
	b.comp.ServiceName = svc.Metadata.Name().Elem()
	b.comp.ServiceAccountName = sa.Metadata.Name().Elem()
	b.comp.URL = pulumi.Sprintf("https://%s", a.Ingress.Host)
	b.comp.ScaledObjectName = so.Metadata.Name().Elem()
	return b.ctx.RegisterResourceOutputs(b.comp, pulumi.Map{
		"namespace":          b.comp.Namespace,
		"deploymentName":     b.comp.DeploymentName,
		"serviceName":        b.comp.ServiceName,
		"serviceAccountName": b.comp.ServiceAccountName,
		"url":                b.comp.URL,
		"scaledObjectName":   b.comp.ScaledObjectName,
	})
}

// redisFiles makes what the server reads about Redis from files: the
// password given as a value (a Secret of the component's; an existing
// Secret is only named) and the CA of a TLS Redis (a ConfigMap).
func (b *builder) redisFiles() error {
	r := b.a.Redis
	if r == nil {
		return nil
	}
	if r.PasswordSecret != "" {
		b.redisSecret = pulumi.String(r.PasswordSecret)
	}
	if r.Password != nil {
		s, err := corev1.NewSecret(b.ctx, b.name+"-redis-auth", &corev1.SecretArgs{
			Metadata:   b.meta(b.a.AppName + "-redis-auth"),
			Type:       pulumi.String("Opaque"),
			StringData: pulumi.StringMap{r.PasswordKey: pulumi.ToSecret(r.Password.ToStringOutput()).(pulumi.StringOutput)},
		}, b.opts()...)
		if err != nil {
			return fmt.Errorf("redis password secret: %w", err)
		}
		b.redisSecret = s.Metadata.Name().Elem()
	}
	if r.CACert != nil {
		cm, err := corev1.NewConfigMap(b.ctx, b.name+"-redis-ca", &corev1.ConfigMapArgs{
			Metadata: b.meta(b.a.AppName + "-redis-ca"),
			Data:     pulumi.StringMap{RedisCAKey: r.CACert},
		}, b.opts()...)
		if err != nil {
			return fmt.Errorf("redis CA config map: %w", err)
		}
		b.redisCA = cm.Metadata.Name().Elem()
	}
	return nil
}

func (b *builder) ingress(svc *corev1.Service) (*networkingv1.Ingress, error) {
	in := b.a.Ingress
	m := b.meta(b.a.AppName)
	m.Annotations = kube.StringMap(in.Annotations)
	ing, err := networkingv1.NewIngress(b.ctx, b.name+"-ingress", &networkingv1.IngressArgs{
		Metadata: m,
		Spec: &networkingv1.IngressSpecArgs{
			IngressClassName: pulumi.String(in.ClassName),
			Tls: networkingv1.IngressTLSArray{networkingv1.IngressTLSArgs{
				Hosts: kube.StringArray(in.Host), SecretName: pulumi.String(in.TLSSecretName),
			}},
			Rules: networkingv1.IngressRuleArray{networkingv1.IngressRuleArgs{
				Host: pulumi.String(in.Host),
				Http: &networkingv1.HTTPIngressRuleValueArgs{Paths: networkingv1.HTTPIngressPathArray{
					networkingv1.HTTPIngressPathArgs{
						Path: pulumi.String("/"), PathType: pulumi.String("Prefix"),
						Backend: &networkingv1.IngressBackendArgs{Service: &networkingv1.IngressServiceBackendArgs{
							Name: svc.Metadata.Name().Elem(),
							Port: &networkingv1.ServiceBackendPortArgs{Name: pulumi.String(APIPortName)},
						}},
					},
				}},
			}},
		},
	}, b.opts()...)
	if err != nil {
		return nil, fmt.Errorf("ingress: %w", err)
	}
	return ing, nil
}
