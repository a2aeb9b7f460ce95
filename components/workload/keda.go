package workload

import (
	"fmt"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apiextensions"
	appsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apps/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// KEDA's ScaledObject (https://keda.sh/docs/latest/reference/scaledobject-spec/).
const (
	// ScaledObjectAPIVersion is the ScaledObject's API version.
	ScaledObjectAPIVersion = "keda.sh/v1alpha1"
	// ScaledObjectKind is its kind.
	ScaledObjectKind = "ScaledObject"
)

// QueueLengthQuery is the PromQL KEDA evaluates for the prometheus trigger:
// the total queue length over the server's pods in namespace behind service
// (the labels the Prometheus operator adds to every scraped series). KEDA's
// AverageValue divides it by the replica count, so the target is per pod.
func QueueLengthQuery(namespace, service string) string {
	return fmt.Sprintf(`sum(%s{namespace="%s",service="%s"})`, QueueLengthMetric, namespace, service)
}

// scaledObject creates the KEDA ScaledObject scaling dep. KEDA creates and
// owns the HPA (autoscaling/v2) from it: cpu and memory triggers are HPA
// resource metrics, the prometheus trigger an external metric KEDA serves.
func (b *builder) scaledObject(dep *appsv1.Deployment, svc *corev1.Service) (*apiextensions.CustomResource, error) {
	s := b.a.Autoscaling
	query := pulumi.All(b.ns, svc.Metadata.Name().Elem()).ApplyT(func(v []any) string {
		return QueueLengthQuery(v[0].(string), v[1].(string))
	}).(pulumi.StringOutput)
	spec := map[string]any{
		"scaleTargetRef": map[string]any{
			"apiVersion": "apps/v1", "kind": "Deployment", "name": dep.Metadata.Name().Elem(),
		},
		"minReplicaCount": s.MinReplicas,
		"maxReplicaCount": s.MaxReplicas,
		"pollingInterval": s.PollingIntervalSeconds,
		"advanced": map[string]any{
			"horizontalPodAutoscalerConfig": map[string]any{"behavior": scalingBehavior()},
		},
		"triggers": []any{
			map[string]any{"type": "cpu", "metricType": "Utilization",
				"metadata": map[string]any{"value": fmt.Sprint(s.CPUUtilization)}},
			map[string]any{"type": "memory", "metricType": "Utilization",
				"metadata": map[string]any{"value": fmt.Sprint(s.MemoryUtilization)}},
			map[string]any{"type": "prometheus", "metricType": "AverageValue",
				"name": "queue-length",
				"metadata": map[string]any{
					"serverAddress": s.PrometheusAddress,
					"query":         query,
					"threshold":     fmt.Sprint(s.QueueLengthTarget),
				}},
		},
	}
	so, err := apiextensions.NewCustomResource(b.ctx, b.name+"-scaledobject", &apiextensions.CustomResourceArgs{
		ApiVersion:  pulumi.String(ScaledObjectAPIVersion),
		Kind:        pulumi.String(ScaledObjectKind),
		Metadata:    b.meta(b.a.AppName),
		OtherFields: kubernetes.UntypedArgs{"spec": spec},
	}, b.opts()...)
	if err != nil {
		return nil, fmt.Errorf("KEDA scaled object: %w", err)
	}
	return so, nil
}

// scalingBehavior is the guide's scale-up (30 s window; +200% or +10 pods
// every 30 s, whichever adds more) and a cautious scale-down (5 min window,
// at most 10% every minute), which the guide leaves unspecified.
func scalingBehavior() map[string]any {
	policy := func(typ string, value, period int) map[string]any {
		return map[string]any{"type": typ, "value": value, "periodSeconds": period}
	}
	return map[string]any{
		"scaleUp": map[string]any{
			"stabilizationWindowSeconds": 30,
			"selectPolicy":               "Max",
			"policies":                   []any{policy("Percent", 200, 30), policy("Pods", 10, 30)},
		},
		"scaleDown": map[string]any{
			"stabilizationWindowSeconds": 300,
			"selectPolicy":               "Max",
			"policies":                   []any{policy("Percent", 10, 60)},
		},
	}
}
