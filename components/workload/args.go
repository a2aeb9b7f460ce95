package workload

import (
	"cmp"
	"fmt"

	"github.com/mobile-mm-llm/mobile-mm-llm/components/kube"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// The server's contract (server/README.md).
const (
	// APIPort serves the HTTP API, /health and /ready.
	APIPort = 8080
	// MetricsPort serves the Prometheus metrics.
	MetricsPort = 8000
	// APIPortName names the API's container and Service port.
	APIPortName = "http"
	// MetricsPortName names the metrics' container and Service port.
	MetricsPortName = "metrics"
	// HealthPath answers 200 while the process runs (liveness).
	HealthPath = "/health"
	// ReadyPath answers 200 once the model is loaded and warmed, 503 while
	// draining (readiness).
	ReadyPath = "/ready"
	// QueueLengthMetric is the gauge of requests waiting for an engine slot.
	QueueLengthMetric = "mobile_multimodal_inference_queue_length"
)

// Where the pod finds its files, and the environment variables naming them
// (the contract with `mmllm serve`).
const (
	// TokensDir holds the API tokens file, one token per line.
	TokensDir = "/etc/mmllm/tokens"
	// TokensKey is the Secret key, and so the file name, of the API tokens.
	TokensKey = "tokens"
	// RedisPasswordDir holds the Redis password file.
	RedisPasswordDir = "/etc/mmllm/redis"
	// RedisCADir holds the CA file of a Redis served over TLS (Redis.CACert).
	RedisCADir = "/etc/mmllm/redis-ca"
	// RedisCAKey is the ConfigMap key, and so the file name, of that CA.
	RedisCAKey = "ca.crt"
	// ModelsDir is where a model volume is mounted, read-only.
	ModelsDir = "/models"
	// UID is the non-root user (and group) the server runs as.
	UID = 1000
)

// Defaults.
const (
	// DefaultAppName is the guide's name for the Deployment and Service.
	DefaultAppName = "mobile-multimodal-llm"
	// ContainerName names the server container.
	ContainerName = "server"
)

// Args configures an Inference component. Zero values take the documented
// defaults; Namespace, Image, APITokens, Ingress.Host, Ingress.TLSSecretName
// and Autoscaling.PrometheusAddress are required.
type Args struct {
	// Namespace is created by the component and enforces Pod Security
	// "restricted".
	Namespace string
	// AppName names the Deployment, Service, Ingress, PDB and ScaledObject
	// (default DefaultAppName).
	AppName string
	// PartOf is the app.kubernetes.io/part-of label (default kube.DefaultPartOf).
	PartOf string
	// Image is the server image, pinned by release tag or sha256 digest
	// ("latest" and untagged images are rejected).
	Image string
	// ContainerArgs are the server's arguments (default ["serve"]).
	ContainerArgs []string
	// Env are extra plain environment variables; secrets never go here (they
	// are mounted as files).
	Env map[string]string
	// Resources are the server container's requests and limits (default the
	// guide's: requests 500m CPU and 2Gi, limits 2 CPUs and 8Gi).
	Resources kube.Resources
	// GPU asks for NVIDIA GPUs on GPU nodes.
	GPU GPU
	// APITokens are the bearer tokens (one per line), from secret config:
	// stored as a Secret and mounted as the file TokensDir/TokensKey.
	APITokens pulumi.StringInput
	// Redis connects the server to the result cache; nil runs it without.
	Redis *Redis
	// ModelClaim is a PersistentVolumeClaim holding the model weights,
	// mounted read-only at ModelsDir; empty when the image carries them.
	ModelClaim string
	// PreStopDelaySeconds keeps a terminating pod serving while Service
	// endpoints and load balancers drop it (default 10).
	PreStopDelaySeconds int
	// DrainSeconds is how long the server drains in-flight requests after
	// SIGTERM (default 30).
	DrainSeconds int
	// TerminationGracePeriodSeconds must exceed PreStopDelaySeconds +
	// DrainSeconds (default their sum plus 10).
	TerminationGracePeriodSeconds int
	// PDBMaxUnavailable is how many pods a voluntary disruption may take
	// down at once (default 1).
	PDBMaxUnavailable int
	// Autoscaling configures the KEDA ScaledObject.
	Autoscaling Autoscaling
	// Ingress exposes the API over TLS.
	Ingress Ingress
}

// GPU asks for GPUs.
type GPU struct {
	// Count is the number of nvidia.com/gpu per pod; 0 runs on CPUs.
	Count int
	// NodeSelector selects the GPU nodes (e.g. {"nvidia.com/gpu.present":
	// "true"}); required when Count > 0.
	NodeSelector map[string]string
}

// Redis is how the server reaches the cache: the in-cluster Redis (a plain
// address and its password Secret) or a managed service (its endpoint and
// AUTH token as outputs, over TLS).
type Redis struct {
	// Address is host:port: pulumi.String for a known address, or a managed
	// service's endpoint output (MMLLM_REDIS_ADDR).
	Address pulumi.StringInput
	// PasswordSecret names a Secret in Namespace holding the password (the
	// in-cluster Redis's); empty when Password is given or Redis needs none.
	PasswordSecret string
	// PasswordKey is the key in PasswordSecret (default "password").
	PasswordKey string
	// Password is the password (a managed service's AUTH token or access
	// key), kept a Pulumi secret: the component stores it in a Secret of
	// its own, mounted like PasswordSecret. It excludes PasswordSecret.
	Password pulumi.StringInput
	// TLS makes the server connect over TLS and verify the certificate
	// (MMLLM_REDIS_TLS): ElastiCache, Memorystore and Azure Cache for Redis
	// accept nothing else.
	TLS bool
	// CACert is the PEM CA that signs the server's certificate
	// (Memorystore's), put in a ConfigMap and mounted as RedisCADir/RedisCAKey
	// (MMLLM_REDIS_CA_FILE); nil trusts the system's roots. Needs TLS.
	CACert pulumi.StringInput
}

// Autoscaling configures the KEDA ScaledObject, which owns the
// HorizontalPodAutoscaler.
type Autoscaling struct {
	// MinReplicas is the floor (default 3; the policies need 2, 3 in production).
	MinReplicas int
	// MaxReplicas is the ceiling (default 50).
	MaxReplicas int
	// CPUUtilization is the target average CPU, percent of requests (default 60).
	CPUUtilization int
	// MemoryUtilization is the target average memory, percent of requests (default 70).
	MemoryUtilization int
	// QueueLengthTarget is the target queue length per pod (default 5).
	QueueLengthTarget int
	// PrometheusAddress is the Prometheus URL KEDA queries for the queue
	// length (monitoring.PrometheusStack.URL).
	PrometheusAddress string
	// PollingIntervalSeconds is how often KEDA evaluates the triggers (default 15).
	PollingIntervalSeconds int
}

// Ingress exposes the API.
type Ingress struct {
	// Host is the public host name, e.g. api.example.com.
	Host string
	// TLSSecretName is the Secret (in Namespace) holding the certificate;
	// cert-manager can fill it through Annotations.
	TLSSecretName string
	// ClassName is the IngressClass (default "nginx").
	ClassName string
	// Annotations are added to the Ingress (cert-manager issuer, body size...).
	Annotations map[string]string
}

// withDefaults returns a copy of args with defaults filled in (zero values
// only: negative numbers are kept so that validate names them).
func (args Args) withDefaults() Args {
	a := args
	a.AppName = cmp.Or(a.AppName, DefaultAppName)
	a.PartOf = cmp.Or(a.PartOf, kube.DefaultPartOf)
	if len(a.ContainerArgs) == 0 {
		a.ContainerArgs = []string{"serve"}
	}
	a.Resources = a.Resources.Or(kube.Resources{CPURequest: "500m", CPULimit: "2", MemoryRequest: "2Gi", MemoryLimit: "8Gi"})
	a.PreStopDelaySeconds = cmp.Or(a.PreStopDelaySeconds, 10)
	a.DrainSeconds = cmp.Or(a.DrainSeconds, 30)
	a.TerminationGracePeriodSeconds = cmp.Or(a.TerminationGracePeriodSeconds, a.PreStopDelaySeconds+a.DrainSeconds+10)
	a.PDBMaxUnavailable = cmp.Or(a.PDBMaxUnavailable, 1)
	if a.Redis != nil {
		r := *a.Redis
		r.PasswordKey = cmp.Or(r.PasswordKey, "password")
		a.Redis = &r
	}
	s := &a.Autoscaling
	s.MinReplicas = cmp.Or(s.MinReplicas, 3)
	s.MaxReplicas = cmp.Or(s.MaxReplicas, 50)
	s.CPUUtilization = cmp.Or(s.CPUUtilization, 60)
	s.MemoryUtilization = cmp.Or(s.MemoryUtilization, 70)
	s.QueueLengthTarget = cmp.Or(s.QueueLengthTarget, 5)
	s.PollingIntervalSeconds = cmp.Or(s.PollingIntervalSeconds, 15)
	a.Ingress.ClassName = cmp.Or(a.Ingress.ClassName, "nginx")
	return a
}

// validate checks defaulted Args, naming every bad key.
func (a Args) validate() error {
	c := kube.NewChecker("workload.NewInference")
	c.Name("Namespace", a.Namespace)
	c.Name("AppName", a.AppName)
	c.Labels("PartOf", map[string]string{kube.PartOfLabel: a.PartOf}, true)
	c.Image("Image", a.Image)
	c.Resources("Resources", a.Resources)
	c.Min("GPU.Count", a.GPU.Count, 0)
	c.Labels("GPU.NodeSelector", a.GPU.NodeSelector, a.GPU.Count > 0)
	if a.GPU.Count == 0 && len(a.GPU.NodeSelector) > 0 {
		c.Failf("GPU.NodeSelector", "is set but GPU.Count is 0; set GPU.Count or drop the selector")
	}
	if a.APITokens == nil {
		c.Failf("APITokens", "is required (a secret config value with one token per line)")
	}
	for _, k := range kube.SortedKeys(a.Env) {
		if k == "" {
			c.Failf("Env", "has an empty variable name")
		}
	}
	if r := a.Redis; r != nil {
		switch addr, plain := r.Address.(pulumi.String); {
		case r.Address == nil:
			c.Failf("Redis.Address", "is required (host:port)")
		case plain:
			c.Required("Redis.Address", string(addr))
		}
		if r.PasswordSecret != "" {
			c.Name("Redis.PasswordSecret", r.PasswordSecret)
			if r.Password != nil {
				c.Failf("Redis.Password", "excludes Redis.PasswordSecret: give the password or the Secret holding it")
			}
		}
		if r.CACert != nil && !r.TLS {
			c.Failf("Redis.CACert", "needs Redis.TLS: the CA verifies a TLS server")
		}
	}
	if a.ModelClaim != "" {
		c.Name("ModelClaim", a.ModelClaim)
	}
	c.Min("PreStopDelaySeconds", a.PreStopDelaySeconds, 1)
	c.Min("DrainSeconds", a.DrainSeconds, 1)
	if min := a.PreStopDelaySeconds + a.DrainSeconds + 1; a.TerminationGracePeriodSeconds < min {
		c.Failf("TerminationGracePeriodSeconds", "is %d; it must exceed PreStopDelaySeconds + DrainSeconds (%d + %d), or the kubelet kills requests mid-drain",
			a.TerminationGracePeriodSeconds, a.PreStopDelaySeconds, a.DrainSeconds)
	}
	c.Min("PDBMaxUnavailable", a.PDBMaxUnavailable, 1)
	s := a.Autoscaling
	c.Min("Autoscaling.MinReplicas", s.MinReplicas, 1)
	c.Min("Autoscaling.MaxReplicas", s.MaxReplicas, 1)
	if s.MinReplicas > s.MaxReplicas {
		c.Failf("Autoscaling.MinReplicas", "is %d, above Autoscaling.MaxReplicas (%d)", s.MinReplicas, s.MaxReplicas)
	}
	c.Range("Autoscaling.CPUUtilization", s.CPUUtilization, 1, 100)
	c.Range("Autoscaling.MemoryUtilization", s.MemoryUtilization, 1, 100)
	c.Min("Autoscaling.QueueLengthTarget", s.QueueLengthTarget, 1)
	c.URL("Autoscaling.PrometheusAddress", s.PrometheusAddress)
	c.Min("Autoscaling.PollingIntervalSeconds", s.PollingIntervalSeconds, 1)
	c.Host("Ingress.Host", a.Ingress.Host)
	c.Name("Ingress.TLSSecretName", a.Ingress.TLSSecretName)
	c.Name("Ingress.ClassName", a.Ingress.ClassName)
	return c.Err()
}

// tokensFile is the path of the mounted tokens file.
func tokensFile() string { return fmt.Sprintf("%s/%s", TokensDir, TokensKey) }
