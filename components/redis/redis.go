// Package redis is the in-cluster Redis result cache: a single-replica
// StatefulSet with a persistent volume (AOF and RDB), a password from a
// Pulumi secret mounted as a file, ClusterIP Services only, and a
// NetworkPolicy that admits only the inference pods.
package redis

import (
	"cmp"
	"fmt"
	"strings"

	"github.com/mobile-mm-llm/mobile-mm-llm/components/kube"
	appsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apps/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// TypeToken is the Redis component's type.
const TypeToken = "mobile-mm-llm:redis:Redis"

const (
	// Port is Redis's port.
	Port = 6379
	// PasswordKey is the password's key in the password Secret.
	PasswordKey = "password"
	// authConfKey is the Secret key holding the requirepass directive the
	// config file includes, so the password is never in the ConfigMap,
	// the command line or the environment.
	authConfKey = "auth.conf"
	// MinPasswordLength is the shortest password accepted.
	MinPasswordLength = 16
	// uid is the non-root user Redis runs as.
	uid = 1000
	// DefaultImage is the pinned Redis image.
	DefaultImage = "docker.io/library/redis:7.4.2-alpine"
)

// Args configures a Redis. Namespace, Password and ClientPodLabels are
// required.
type Args struct {
	// Namespace is the (existing) namespace Redis runs in.
	Namespace string
	// Name names the StatefulSet, Services and Secret (default "redis").
	Name string
	// PartOf is the app.kubernetes.io/part-of label (default kube.DefaultPartOf).
	PartOf string
	// Image is the Redis image, pinned (default DefaultImage).
	Image string
	// Password is the Redis password, from secret config (at least
	// MinPasswordLength characters).
	Password pulumi.StringInput
	// StorageSize is the volume's size (default "8Gi").
	StorageSize string
	// StorageClass is the volume's StorageClass (default: the cluster's).
	StorageClass string
	// Resources are the container's requests and limits (default 100m/500m
	// CPU, 512Mi/1Gi memory); maxmemory is 75% of the memory limit.
	Resources kube.Resources
	// ClientNamespace is the clients' namespace (default Namespace).
	ClientNamespace string
	// ClientPodLabels select the pods allowed to connect
	// (workload.Inference.SelectorLabels).
	ClientPodLabels map[string]string
}

// Redis is the deployed cache.
type Redis struct {
	pulumi.ResourceState

	// Address is the Service's host:port.
	Address pulumi.StringOutput `pulumi:"address"`
	// ServiceName is the ClusterIP Service's name.
	ServiceName pulumi.StringOutput `pulumi:"serviceName"`
	// PasswordSecretName is the Secret holding PasswordKey.
	PasswordSecretName pulumi.StringOutput `pulumi:"passwordSecretName"`

	// PodLabels select the Redis pods (for the clients' egress rule); known
	// when NewRedis returns.
	PodLabels map[string]string
}

// AuthSecretName is the name of the password Secret of a Redis named name
// (Args.Name), for clients configured before NewRedis runs.
func AuthSecretName(name string) string { return name + "-auth" }

// ServiceAddress is the host:port of a Redis named name in namespace.
func ServiceAddress(name, namespace string) string {
	return fmt.Sprintf("%s.%s.svc.cluster.local:%d", name, namespace, Port)
}

func (args Args) withDefaults() Args {
	a := args
	a.Name = cmp.Or(a.Name, "redis")
	a.PartOf = cmp.Or(a.PartOf, kube.DefaultPartOf)
	a.Image = cmp.Or(a.Image, DefaultImage)
	a.StorageSize = cmp.Or(a.StorageSize, "8Gi")
	a.Resources = a.Resources.Or(kube.Resources{CPURequest: "100m", CPULimit: "500m", MemoryRequest: "512Mi", MemoryLimit: "1Gi"})
	a.ClientNamespace = cmp.Or(a.ClientNamespace, a.Namespace)
	return a
}

func (a Args) validate() error {
	c := kube.NewChecker("redis.NewRedis")
	c.Name("Namespace", a.Namespace)
	c.Name("Name", a.Name)
	c.Labels("PartOf", map[string]string{kube.PartOfLabel: a.PartOf}, true)
	c.Image("Image", a.Image)
	if a.Password == nil {
		c.Failf("Password", "is required (a secret config value)")
	}
	c.Quantity("StorageSize", a.StorageSize)
	if a.StorageClass != "" {
		c.Name("StorageClass", a.StorageClass)
	}
	c.Resources("Resources", a.Resources)
	c.Name("ClientNamespace", a.ClientNamespace)
	c.Labels("ClientPodLabels", a.ClientPodLabels, true)
	return c.Err()
}

// NewRedis deploys Redis. Pass the Kubernetes provider with pulumi.Provider,
// and pulumi.DependsOn the component that creates the namespace.
func NewRedis(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*Redis, error) {
	if err := kube.CheckCall("redis.NewRedis", name, args); err != nil {
		return nil, err
	}
	a := args.withDefaults()
	if err := a.validate(); err != nil {
		return nil, err
	}
	comp := &Redis{PodLabels: kube.Selector(a.Name, name)}
	if err := ctx.RegisterComponentResource(TypeToken, name, comp, opts...); err != nil {
		return nil, fmt.Errorf("redis.NewRedis %q: %w", name, err)
	}
	b := builder{ctx: ctx, name: name, a: a, comp: comp, labels: kube.Labels(a.PartOf, a.Name, name, "cache")}
	if err := b.build(); err != nil {
		return nil, fmt.Errorf("redis.NewRedis %q: %w", name, err)
	}
	return comp, nil
}

type builder struct {
	ctx    *pulumi.Context
	name   string
	a      Args
	comp   *Redis
	labels map[string]string
}

func (b builder) child() pulumi.ResourceOption { return pulumi.Parent(b.comp) }

func (b builder) meta(name string) *metav1.ObjectMetaArgs {
	return kube.Metadata(name, b.a.Namespace, b.labels)
}

func (b builder) build() error {
	a := b.a
	sa, err := kube.NewServiceAccount(b.ctx, b.name+"-sa", a.Name, a.Namespace, b.labels, b.child())
	if err != nil {
		return err
	}
	password := pulumi.ToSecret(a.Password.ToStringOutput().ApplyT(checkPassword)).(pulumi.StringOutput)
	secret, err := corev1.NewSecret(b.ctx, b.name+"-auth", &corev1.SecretArgs{
		Metadata: b.meta(AuthSecretName(a.Name)),
		Type:     pulumi.String("Opaque"),
		StringData: pulumi.StringMap{
			PasswordKey: password,
			authConfKey: pulumi.ToSecret(password.ApplyT(func(p string) string {
				return "requirepass " + quote(p) + "\n"
			})).(pulumi.StringOutput),
		},
	}, b.child())
	if err != nil {
		return fmt.Errorf("password secret: %w", err)
	}
	maxMemory, err := kube.ParseQuantity(a.Resources.MemoryLimit)
	if err != nil {
		return fmt.Errorf("Resources.MemoryLimit: %w", err)
	}
	conf, err := corev1.NewConfigMap(b.ctx, b.name+"-config", &corev1.ConfigMapArgs{
		Metadata: b.meta(a.Name + "-config"),
		Data:     pulumi.StringMap{"redis.conf": pulumi.String(config(int64(maxMemory * 0.75)))},
	}, b.child())
	if err != nil {
		return fmt.Errorf("config map: %w", err)
	}
	headless, err := b.service(a.Name+"-headless", "-headless-service", true)
	if err != nil {
		return err
	}
	svc, err := b.service(a.Name, "-service", false)
	if err != nil {
		return err
	}
	if _, err := b.statefulSet(headless, sa, secret, conf); err != nil {
		return err
	}
	if err := b.networkPolicy(); err != nil {
		return err
	}
	b.comp.ServiceName = svc.Metadata.Name().Elem()
	b.comp.Address = b.comp.ServiceName.ApplyT(func(svc string) string { return ServiceAddress(svc, a.Namespace) }).(pulumi.StringOutput)
	b.comp.PasswordSecretName = secret.Metadata.Name().Elem()
	return b.ctx.RegisterResourceOutputs(b.comp, pulumi.Map{
		"address":            b.comp.Address,
		"serviceName":        b.comp.ServiceName,
		"passwordSecretName": b.comp.PasswordSecretName,
	})
}

// checkPassword rejects short passwords when the secret's value is known;
// the message does not reveal the length.
func checkPassword(p string) (string, error) {
	if len(p) < MinPasswordLength {
		return "", fmt.Errorf("redis.NewRedis: Password: is shorter than %d characters", MinPasswordLength)
	}
	return p, nil
}

// quote writes s as a double-quoted Redis config argument.
func quote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\r", `\r`, "\t", `\t`)
	return `"` + r.Replace(s) + `"`
}

// config is redis.conf: a cache that survives restarts (AOF every second
// plus RDB snapshots), evicting least-recently-used keys at maxmemory bytes.
func config(maxmemory int64) string {
	return strings.Join([]string{
		fmt.Sprintf("port %d", Port),
		"bind * -::*",
		"dir /data",
		"appendonly yes",
		"appendfsync everysec",
		"save 3600 1 300 100 60 10000",
		fmt.Sprintf("maxmemory %d", maxmemory),
		"maxmemory-policy allkeys-lru",
		"include /etc/redis/auth/" + authConfKey,
		"",
	}, "\n")
}

func (b builder) service(name, suffix string, headless bool) (*corev1.Service, error) {
	spec := &corev1.ServiceSpecArgs{
		Type:     pulumi.String("ClusterIP"),
		Selector: kube.StringMap(b.comp.PodLabels),
		Ports: corev1.ServicePortArray{corev1.ServicePortArgs{
			Name: pulumi.String("redis"), Port: pulumi.Int(Port), TargetPort: pulumi.String("redis"), Protocol: pulumi.String("TCP"),
		}},
	}
	if headless {
		spec.ClusterIP = pulumi.String("None")
	}
	svc, err := corev1.NewService(b.ctx, b.name+suffix, &corev1.ServiceArgs{Metadata: b.meta(name), Spec: spec}, b.child())
	if err != nil {
		return nil, fmt.Errorf("service %s: %w", name, err)
	}
	return svc, nil
}

func (b builder) networkPolicy() error {
	_, err := networkingv1.NewNetworkPolicy(b.ctx, b.name+"-clients", &networkingv1.NetworkPolicyArgs{
		Metadata: b.meta(b.a.Name + "-clients"),
		Spec: &networkingv1.NetworkPolicySpecArgs{
			PodSelector: kube.MatchLabels(b.comp.PodLabels),
			// Both types with no egress rule: Redis itself opens no connections.
			PolicyTypes: kube.PolicyTypes(),
			Ingress: networkingv1.NetworkPolicyIngressRuleArray{networkingv1.NetworkPolicyIngressRuleArgs{
				From:  networkingv1.NetworkPolicyPeerArray{kube.Peer(b.a.ClientNamespace, b.a.ClientPodLabels)},
				Ports: kube.Ports("TCP", Port),
			}},
		},
	}, b.child())
	if err != nil {
		return fmt.Errorf("network policy: %w", err)
	}
	return nil
}

func (b builder) statefulSet(headless *corev1.Service, sa *corev1.ServiceAccount, secret *corev1.Secret, conf *corev1.ConfigMap) (*appsv1.StatefulSet, error) {
	a := b.a
	pvc := &corev1.PersistentVolumeClaimSpecArgs{
		AccessModes: kube.StringArray("ReadWriteOnce"),
		Resources:   &corev1.VolumeResourceRequirementsArgs{Requests: pulumi.StringMap{"storage": pulumi.String(a.StorageSize)}},
	}
	if a.StorageClass != "" {
		pvc.StorageClassName = pulumi.String(a.StorageClass)
	}
	container := corev1.ContainerArgs{
		Name:            pulumi.String("redis"),
		Image:           pulumi.String(a.Image),
		ImagePullPolicy: pulumi.String("IfNotPresent"),
		Command:         kube.StringArray("redis-server", "/etc/redis/conf/redis.conf"),
		Ports:           corev1.ContainerPortArray{corev1.ContainerPortArgs{Name: pulumi.String("redis"), ContainerPort: pulumi.Int(Port), Protocol: pulumi.String("TCP")}},
		Resources:       a.Resources.Requirements(nil),
		SecurityContext: kube.RestrictedContainerSecurityContext(),
		LivenessProbe: &corev1.ProbeArgs{
			TcpSocket:           &corev1.TCPSocketActionArgs{Port: pulumi.String("redis")},
			InitialDelaySeconds: pulumi.Int(10), PeriodSeconds: pulumi.Int(10), TimeoutSeconds: pulumi.Int(3),
		},
		// PING answers PONG only once the data set is loaded; the password
		// is read from the file into the shell, never into the pod spec.
		ReadinessProbe: &corev1.ProbeArgs{
			Exec: &corev1.ExecActionArgs{Command: kube.StringArray("sh", "-c",
				`REDISCLI_AUTH="$(cat /etc/redis/auth/`+PasswordKey+`)" redis-cli -h 127.0.0.1 ping | grep -q PONG`)},
			PeriodSeconds: pulumi.Int(5), TimeoutSeconds: pulumi.Int(3),
		},
		VolumeMounts: corev1.VolumeMountArray{
			corev1.VolumeMountArgs{Name: pulumi.String("data"), MountPath: pulumi.String("/data")},
			corev1.VolumeMountArgs{Name: pulumi.String("config"), MountPath: pulumi.String("/etc/redis/conf"), ReadOnly: pulumi.Bool(true)},
			corev1.VolumeMountArgs{Name: pulumi.String("auth"), MountPath: pulumi.String("/etc/redis/auth"), ReadOnly: pulumi.Bool(true)},
		},
	}
	ss, err := appsv1.NewStatefulSet(b.ctx, b.name+"-statefulset", &appsv1.StatefulSetArgs{
		Metadata: b.meta(a.Name),
		Spec: &appsv1.StatefulSetSpecArgs{
			Replicas:    pulumi.Int(1),
			ServiceName: headless.Metadata.Name().Elem(),
			Selector:    kube.MatchLabels(b.comp.PodLabels),
			Template: &corev1.PodTemplateSpecArgs{
				Metadata: &metav1.ObjectMetaArgs{Labels: kube.StringMap(kube.Merge(b.labels, b.comp.PodLabels))},
				Spec: &corev1.PodSpecArgs{
					ServiceAccountName:           sa.Metadata.Name().Elem(),
					AutomountServiceAccountToken: pulumi.Bool(false),
					SecurityContext:              kube.RestrictedPodSecurityContext(uid),
					Containers:                   corev1.ContainerArray{container},
					Volumes: corev1.VolumeArray{
						corev1.VolumeArgs{Name: pulumi.String("config"), ConfigMap: &corev1.ConfigMapVolumeSourceArgs{Name: conf.Metadata.Name().Elem()}},
						kube.SecretVolume("auth", secret.Metadata.Name().Elem()),
					},
				},
			},
			VolumeClaimTemplates: corev1.PersistentVolumeClaimTypeArray{corev1.PersistentVolumeClaimTypeArgs{
				Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String("data"), Labels: kube.StringMap(b.labels)},
				Spec:     pvc,
			}},
		},
	}, b.child())
	if err != nil {
		return nil, fmt.Errorf("stateful set: %w", err)
	}
	return ss, nil
}
