package workload

import (
	"fmt"

	"github.com/mobile-mm-llm/mobile-mm-llm/components/kube"
	appsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apps/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// deploymentSpec is the server's Deployment spec. It sets no replicas: the
// ScaledObject's HPA owns the count, and a fixed one would be re-applied on
// every update.
func (b *builder) deploymentSpec(serviceAccount, tokensSecret pulumi.StringInput) *appsv1.DeploymentSpecArgs {
	a := b.a
	pod := &corev1.PodSpecArgs{
		ServiceAccountName:            serviceAccount,
		AutomountServiceAccountToken:  pulumi.Bool(false),
		SecurityContext:               kube.RestrictedPodSecurityContext(UID),
		TerminationGracePeriodSeconds: pulumi.Int(a.TerminationGracePeriodSeconds),
		Containers:                    corev1.ContainerArray{b.container()},
		Volumes:                       b.volumes(tokensSecret),
		TopologySpreadConstraints:     b.spread(),
	}
	if a.GPU.Count > 0 {
		pod.NodeSelector = kube.StringMap(a.GPU.NodeSelector)
		pod.Tolerations = kube.GPUTolerations()
	}
	return &appsv1.DeploymentSpecArgs{
		Selector: kube.MatchLabels(b.comp.SelectorLabels),
		Strategy: &appsv1.DeploymentStrategyArgs{
			Type: pulumi.String("RollingUpdate"),
			RollingUpdate: &appsv1.RollingUpdateDeploymentArgs{
				MaxUnavailable: pulumi.Int(0), MaxSurge: pulumi.String("25%"),
			},
		},
		Template: &corev1.PodTemplateSpecArgs{
			Metadata: &metav1.ObjectMetaArgs{Labels: kube.StringMap(b.comp.PodLabels)},
			Spec:     pod,
		},
	}
}

func (b *builder) container() corev1.ContainerArgs {
	a := b.a
	var gpu map[string]string
	if a.GPU.Count > 0 {
		gpu = map[string]string{kube.GPUResource: fmt.Sprint(a.GPU.Count)}
	}
	return corev1.ContainerArgs{
		Name:            pulumi.String(ContainerName),
		Image:           pulumi.String(a.Image),
		ImagePullPolicy: pulumi.String("IfNotPresent"),
		Args:            kube.StringArray(a.ContainerArgs...),
		Ports: corev1.ContainerPortArray{
			corev1.ContainerPortArgs{Name: pulumi.String(APIPortName), ContainerPort: pulumi.Int(APIPort), Protocol: pulumi.String("TCP")},
			corev1.ContainerPortArgs{Name: pulumi.String(MetricsPortName), ContainerPort: pulumi.Int(MetricsPort), Protocol: pulumi.String("TCP")},
		},
		Env:             b.env(),
		Resources:       a.Resources.Requirements(gpu),
		SecurityContext: kube.RestrictedContainerSecurityContext(),
		VolumeMounts:    b.mounts(),
		// /health answers while the process runs; /ready only once the model
		// is warmed and until draining starts, so traffic reaches warm pods.
		LivenessProbe: &corev1.ProbeArgs{
			HttpGet:       &corev1.HTTPGetActionArgs{Path: pulumi.String(HealthPath), Port: pulumi.String(APIPortName)},
			PeriodSeconds: pulumi.Int(10), TimeoutSeconds: pulumi.Int(3), FailureThreshold: pulumi.Int(3),
		},
		ReadinessProbe: &corev1.ProbeArgs{
			HttpGet:       &corev1.HTTPGetActionArgs{Path: pulumi.String(ReadyPath), Port: pulumi.String(APIPortName)},
			PeriodSeconds: pulumi.Int(5), TimeoutSeconds: pulumi.Int(2), FailureThreshold: pulumi.Int(2),
		},
		// Loading and warming the model may take minutes: liveness only
		// starts once /health has answered.
		StartupProbe: &corev1.ProbeArgs{
			HttpGet:       &corev1.HTTPGetActionArgs{Path: pulumi.String(HealthPath), Port: pulumi.String(APIPortName)},
			PeriodSeconds: pulumi.Int(5), FailureThreshold: pulumi.Int(60),
		},
		// The kubelet sleeps before SIGTERM so endpoints and the ingress
		// controller stop routing here first (the sleep action needs no shell
		// in the image; Kubernetes 1.30+).
		Lifecycle: &corev1.LifecycleArgs{PreStop: &corev1.LifecycleHandlerArgs{
			Sleep: &corev1.SleepActionArgs{Seconds: pulumi.Int(a.PreStopDelaySeconds)},
		}},
	}
}

// env is the server's environment: plain settings and the paths of its
// secret files, never the secrets themselves.
func (b *builder) env() corev1.EnvVarArray {
	a := b.a
	vars := map[string]string{
		"GIN_MODE":            "release",
		"MMLLM_ADDR":          fmt.Sprintf(":%d", APIPort),
		"MMLLM_METRICS_ADDR":  fmt.Sprintf(":%d", MetricsPort),
		"MMLLM_TOKENS_FILE":   tokensFile(),
		"MMLLM_DRAIN_TIMEOUT": fmt.Sprintf("%ds", a.DrainSeconds),
	}
	// GOMEMLIMIT at 90% of the memory limit makes the Go runtime collect
	// harder before the kubelet would kill the container.
	if limit, err := kube.ParseQuantity(a.Resources.MemoryLimit); err == nil {
		vars["GOMEMLIMIT"] = fmt.Sprintf("%d", int64(limit*0.9))
	}
	if r := a.Redis; r != nil {
		if b.redisSecret != nil {
			vars["MMLLM_REDIS_PASSWORD_FILE"] = RedisPasswordDir + "/" + r.PasswordKey
		}
		if r.TLS {
			vars["MMLLM_REDIS_TLS"] = "true"
		}
		if b.redisCA != nil {
			vars["MMLLM_REDIS_CA_FILE"] = RedisCADir + "/" + RedisCAKey
		}
	}
	if a.ModelClaim != "" {
		vars["MMLLM_MODELS_DIR"] = ModelsDir
	}
	if a.GPU.Count > 0 {
		vars["NVIDIA_DRIVER_CAPABILITIES"] = "compute,utility"
		// The decoder runs on the GPU (falling back to the CPU, logged and
		// shown in /ready, if the node has no usable driver).
		vars["MMLLM_DEVICE"] = "cuda"
	}
	values := map[string]pulumi.StringInput{}
	for k, v := range kube.Merge(vars, a.Env) {
		values[k] = pulumi.String(v)
	}
	// The address may be a managed service's endpoint, known after its
	// creation; Args.Env still wins.
	if _, set := a.Env["MMLLM_REDIS_ADDR"]; a.Redis != nil && !set {
		values["MMLLM_REDIS_ADDR"] = a.Redis.Address
	}
	out := corev1.EnvVarArray{}
	for _, k := range kube.SortedKeys(values) {
		out = append(out, corev1.EnvVarArgs{Name: pulumi.String(k), Value: values[k]})
	}
	return out
}

func (b *builder) volumes(tokensSecret pulumi.StringInput) corev1.VolumeArray {
	a := b.a
	vols := corev1.VolumeArray{
		corev1.VolumeArgs{Name: pulumi.String("tmp"), EmptyDir: &corev1.EmptyDirVolumeSourceArgs{SizeLimit: pulumi.String("1Gi")}},
		kube.SecretVolume("api-tokens", tokensSecret),
	}
	if b.redisSecret != nil {
		vols = append(vols, kube.SecretVolume("redis-password", b.redisSecret))
	}
	if b.redisCA != nil {
		vols = append(vols, corev1.VolumeArgs{Name: pulumi.String("redis-ca"), ConfigMap: &corev1.ConfigMapVolumeSourceArgs{
			Name: b.redisCA, DefaultMode: pulumi.Int(0o444),
		}})
	}
	if a.ModelClaim != "" {
		vols = append(vols, corev1.VolumeArgs{Name: pulumi.String("models"), PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSourceArgs{
			ClaimName: pulumi.String(a.ModelClaim), ReadOnly: pulumi.Bool(true),
		}})
	}
	return vols
}

func (b *builder) mounts() corev1.VolumeMountArray {
	a := b.a
	mounts := corev1.VolumeMountArray{
		corev1.VolumeMountArgs{Name: pulumi.String("tmp"), MountPath: pulumi.String("/tmp")},
		corev1.VolumeMountArgs{Name: pulumi.String("api-tokens"), MountPath: pulumi.String(TokensDir), ReadOnly: pulumi.Bool(true)},
	}
	if b.redisSecret != nil {
		mounts = append(mounts, corev1.VolumeMountArgs{Name: pulumi.String("redis-password"), MountPath: pulumi.String(RedisPasswordDir), ReadOnly: pulumi.Bool(true)})
	}
	if b.redisCA != nil {
		mounts = append(mounts, corev1.VolumeMountArgs{Name: pulumi.String("redis-ca"), MountPath: pulumi.String(RedisCADir), ReadOnly: pulumi.Bool(true)})
	}
	if a.ModelClaim != "" {
		mounts = append(mounts, corev1.VolumeMountArgs{Name: pulumi.String("models"), MountPath: pulumi.String(ModelsDir), ReadOnly: pulumi.Bool(true)})
	}
	return mounts
}

// spread keeps replicas on different zones and nodes where it can.
func (b *builder) spread() corev1.TopologySpreadConstraintArray {
	out := corev1.TopologySpreadConstraintArray{}
	for _, key := range []string{"topology.kubernetes.io/zone", "kubernetes.io/hostname"} {
		out = append(out, corev1.TopologySpreadConstraintArgs{
			MaxSkew: pulumi.Int(1), TopologyKey: pulumi.String(key), WhenUnsatisfiable: pulumi.String("ScheduleAnyway"),
			LabelSelector: kube.MatchLabels(b.comp.SelectorLabels),
		})
	}
	return out
}
