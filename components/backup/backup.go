// Package backup is the deployment guide's backup job as a Kubernetes
// CronJob: an RDB dump of the in-cluster Redis (redis-cli --rdb, skipped
// for a managed Redis, which keeps its own snapshots), the namespace's
// configuration (kubectl get -o yaml of its workload, network and RBAC
// objects, never Secrets), both uploaded under a dated prefix of the
// region's object store (S3, GCS or Azure Blob) with the cloud's CLI,
// authenticated by workload identity. With it come a ServiceAccount, a Role
// that can only get and list those kinds, its RoleBinding, and the
// NetworkPolicies the job needs (and Redis's admission of it).
package backup

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/mobile-mm-llm/mobile-mm-llm/components/kube"
	"github.com/mobile-mm-llm/mobile-mm-llm/components/redis"
	batchv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/batch/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	rbacv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/rbac/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// TypeToken is the Job component's type.
const TypeToken = "mobile-mm-llm:backup:Job"

// Component is the app.kubernetes.io/component value of every object; the
// policies recognise the stack's backup CronJob by it
// (policies.BackupComponent).
const Component = "backup"

// Defaults.
const (
	// DefaultSchedule is the CronJob's schedule, in UTC: daily at 03:17.
	DefaultSchedule = "17 3 * * *"
	// DefaultPrefix is the object prefix under which each run writes
	// PREFIX/NAMESPACE/YYYY-MM-DDTHHMMSSZ/.
	DefaultPrefix = "backups"
	// DefaultKubectlImage is Kubernetes' own kubectl image (no shell: the
	// dump runs under its /go-runner, which writes stdout to a file).
	DefaultKubectlImage = "registry.k8s.io/kubectl:v1.34.1"
	// DefaultAWSImage is AWS's CLI v2 image.
	DefaultAWSImage = "docker.io/amazon/aws-cli:2.27.9"
	// DefaultGCPImage is Google's slim Cloud SDK image (gcloud storage).
	DefaultGCPImage = "gcr.io/google.com/cloudsdktool/google-cloud-cli:562.0.0-slim"
	// DefaultAzureImage is Microsoft's Azure CLI image.
	DefaultAzureImage = "mcr.microsoft.com/azure-cli:2.77.0"
	// DefaultContainer is the Azure blob container (the model store's).
	DefaultContainer = "models"
	// uid is the non-root user every container runs as.
	uid = 10001
)

// The object stores (Upload.Provider).
const (
	// S3 uploads with aws s3 cp (IRSA: the ServiceAccount annotation
	// eks.amazonaws.com/role-arn).
	S3 = "s3"
	// GCS uploads with gcloud storage cp (GKE Workload Identity).
	GCS = "gcs"
	// AzureBlob uploads with az storage blob upload-batch --auth-mode login
	// (Azure workload identity: the ServiceAccount annotation
	// azure.workload.identity/client-id and the pod label
	// azure.workload.identity/use).
	AzureBlob = "azure-blob"
)

// providers lists the object stores, in the order errors name them.
var providers = []string{S3, GCS, AzureBlob}

// ConfigResources are the kinds the configuration dump reads (and the Role
// grants get and list on): the namespace's workloads, services,
// configuration, autoscaling, disruption budgets, ingress, network policies
// and RBAC. Secrets are left out on purpose.
var ConfigResources = []Resource{
	{"apps", "deployments"}, {"apps", "statefulsets"}, {"", "services"}, {"", "configmaps"},
	{"", "serviceaccounts"}, {"", "persistentvolumeclaims"}, {"batch", "cronjobs"},
	{"autoscaling", "horizontalpodautoscalers"}, {"keda.sh", "scaledobjects"},
	{"policy", "poddisruptionbudgets"}, {"networking.k8s.io", "ingresses"},
	{"networking.k8s.io", "networkpolicies"}, {"rbac.authorization.k8s.io", "roles"},
	{"rbac.authorization.k8s.io", "rolebindings"},
}

// Resource is an API group and a resource (plural) of it.
type Resource struct {
	// Group is the API group ("" for the core group).
	Group string
	// Name is the plural resource name.
	Name string
}

// qualified is the name kubectl resolves unambiguously ("deployments.apps").
func (r Resource) qualified() string {
	if r.Group == "" {
		return r.Name
	}
	return r.Name + "." + r.Group
}

// Args configure a Job. Namespace and Upload are required.
type Args struct {
	// Namespace is the (existing) namespace backed up and run in.
	Namespace string
	// Name names the CronJob and its companions (default "backup").
	Name string
	// PartOf is the app.kubernetes.io/part-of label (default kube.DefaultPartOf).
	PartOf string
	// Schedule is a five-field cron schedule or macro, in UTC (default
	// DefaultSchedule).
	Schedule string
	// Redis is the in-cluster Redis to dump; nil skips the step (a
	// managed Redis takes its own snapshots).
	Redis *Redis
	// Upload is where the backups go.
	Upload Upload
	// ServiceAccountAnnotations bind the ServiceAccount to the cloud
	// identity (IRSA's role ARN, Azure's client ID).
	ServiceAccountAnnotations map[string]pulumi.StringInput
	// PodLabels are added to the job's pods (Azure workload identity's
	// azure.workload.identity/use).
	PodLabels map[string]string
	// HTTPSEgressCIDRs are where the job may open HTTPS connections: the
	// API server, the token service and the object store (default
	// everywhere).
	HTTPSEgressCIDRs []string
	// ExtraEgress are further destinations, such as GKE's metadata server.
	ExtraEgress []Endpoint
	// KubectlImage, RedisImage and CLIImage are pinned images (defaults
	// DefaultKubectlImage, redis.DefaultImage and the provider's CLI image).
	KubectlImage, RedisImage, CLIImage string
	// Resources are each container's requests and limits (default 50m/500m
	// CPU, 128Mi/512Mi memory).
	Resources kube.Resources
	// BackoffLimit is how often a failed run is retried (default 2).
	BackoffLimit int
	// ActiveDeadlineSeconds bounds a run, retries included (default 1800).
	ActiveDeadlineSeconds int
}

// Redis is the in-cluster Redis the job dumps.
type Redis struct {
	// Host is its Service's DNS name.
	Host string
	// Port is its port (default redis.Port).
	Port int
	// PasswordSecret is the Secret holding redis.PasswordKey, mounted as a
	// file.
	PasswordSecret string
	// PodLabels select the Redis pods (their ingress admits the job).
	PodLabels map[string]string
}

// Upload is the object store the job writes to.
type Upload struct {
	// Provider is S3, GCS or AzureBlob.
	Provider string
	// Bucket is the S3 or GCS bucket, or the Azure storage account.
	Bucket pulumi.StringInput
	// Container is the Azure blob container (default DefaultContainer).
	Container string
	// Region is the S3 bucket's region (required for S3).
	Region string
	// TenantID is the Azure tenant (required for AzureBlob).
	TenantID string
	// Prefix is the object prefix (default DefaultPrefix).
	Prefix string
}

// Endpoint is a network destination.
type Endpoint struct {
	// CIDR is its address range.
	CIDR string
	// Port is its TCP port.
	Port int
}

// Job is the deployed backup schedule.
type Job struct {
	pulumi.ResourceState

	// CronJobName is the CronJob's name.
	CronJobName pulumi.StringOutput `pulumi:"cronJobName"`
	// ServiceAccountName is the job's ServiceAccount (the cloud identity
	// trusts namespace/name).
	ServiceAccountName pulumi.StringOutput `pulumi:"serviceAccountName"`
	// Destination is where the runs write: s3://, gs:// or https:// and
	// the prefix (each run adds NAMESPACE/TIMESTAMP/).
	Destination pulumi.StringOutput `pulumi:"destination"`
}

// ServiceAccountName is the ServiceAccount of a Job named name (Args.Name),
// for identities created before NewJob runs.
func ServiceAccountName(name string) string { return cmp.Or(name, "backup") }

func (args Args) withDefaults() Args {
	a := args
	a.Name = ServiceAccountName(a.Name)
	a.PartOf = cmp.Or(a.PartOf, kube.DefaultPartOf)
	a.Schedule = cmp.Or(a.Schedule, DefaultSchedule)
	a.KubectlImage = cmp.Or(a.KubectlImage, DefaultKubectlImage)
	a.RedisImage = cmp.Or(a.RedisImage, redis.DefaultImage)
	a.CLIImage = cmp.Or(a.CLIImage, map[string]string{S3: DefaultAWSImage, GCS: DefaultGCPImage, AzureBlob: DefaultAzureImage}[a.Upload.Provider])
	a.Resources = a.Resources.Or(kube.Resources{CPURequest: "50m", CPULimit: "500m", MemoryRequest: "128Mi", MemoryLimit: "512Mi"})
	a.Upload.Prefix = cmp.Or(a.Upload.Prefix, DefaultPrefix)
	if a.Upload.Provider == AzureBlob {
		a.Upload.Container = cmp.Or(a.Upload.Container, DefaultContainer)
	}
	if len(a.HTTPSEgressCIDRs) == 0 {
		a.HTTPSEgressCIDRs = []string{"0.0.0.0/0", "::/0"}
	}
	if a.BackoffLimit == 0 {
		a.BackoffLimit = 2
	}
	if a.ActiveDeadlineSeconds == 0 {
		a.ActiveDeadlineSeconds = 1800
	}
	if a.Redis != nil {
		r := *a.Redis
		r.Port = cmp.Or(r.Port, redis.Port)
		a.Redis = &r
	}
	return a
}

func (a Args) validate() error {
	c := kube.NewChecker("backup.NewJob")
	c.Name("Namespace", a.Namespace)
	c.Name("Name", a.Name)
	c.Labels("PartOf", map[string]string{kube.PartOfLabel: a.PartOf}, true)
	CheckSchedule(c, "Schedule", a.Schedule)
	if r := a.Redis; r != nil {
		c.Host("Redis.Host", r.Host)
		c.Port("Redis.Port", r.Port)
		c.Name("Redis.PasswordSecret", r.PasswordSecret)
		c.Labels("Redis.PodLabels", r.PodLabels, true)
	}
	u := a.Upload
	if !slices.Contains(providers, u.Provider) {
		c.Failf("Upload.Provider", "is %q; want one of %q", u.Provider, providers)
	}
	if u.Bucket == nil {
		c.Failf("Upload.Bucket", "is required (the bucket or storage account)")
	}
	if u.Provider == S3 {
		c.Required("Upload.Region", u.Region)
	}
	if u.Provider == AzureBlob {
		c.Name("Upload.Container", u.Container)
		c.Required("Upload.TenantID", u.TenantID)
	}
	if !objectPrefix.MatchString(u.Prefix) {
		c.Failf("Upload.Prefix", "%q is not an object prefix (letters, digits, . _ - and inner slashes)", u.Prefix)
	}
	c.Labels("PodLabels", a.PodLabels, false)
	for i, cidr := range a.HTTPSEgressCIDRs {
		c.CIDR(fmt.Sprintf("HTTPSEgressCIDRs[%d]", i), cidr)
	}
	for i, e := range a.ExtraEgress {
		c.CIDR(fmt.Sprintf("ExtraEgress[%d].CIDR", i), e.CIDR)
		c.Port(fmt.Sprintf("ExtraEgress[%d].Port", i), e.Port)
	}
	c.Image("KubectlImage", a.KubectlImage)
	c.Image("RedisImage", a.RedisImage)
	c.Image("CLIImage", a.CLIImage)
	c.Resources("Resources", a.Resources)
	c.Range("BackoffLimit", a.BackoffLimit, 0, 10)
	c.Range("ActiveDeadlineSeconds", a.ActiveDeadlineSeconds, 60, 24*3600)
	return c.Err()
}

// NewJob deploys the backup CronJob. Pass the Kubernetes provider with
// pulumi.Provider, and pulumi.DependsOn the component that creates the
// namespace (and the Redis, when it dumps one).
func NewJob(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*Job, error) {
	if err := kube.CheckCall("backup.NewJob", name, args); err != nil {
		return nil, err
	}
	a := args.withDefaults()
	if err := a.validate(); err != nil {
		return nil, err
	}
	comp := &Job{}
	if err := ctx.RegisterComponentResource(TypeToken, name, comp, opts...); err != nil {
		return nil, fmt.Errorf("backup.NewJob %q: %w", name, err)
	}
	b := builder{ctx: ctx, name: name, a: a, comp: comp,
		labels: kube.Labels(a.PartOf, a.Name, name, Component), podLabels: kube.Selector(a.Name, name)}
	if err := b.build(); err != nil {
		return nil, fmt.Errorf("backup.NewJob %q: %w", name, err)
	}
	return comp, nil
}

type builder struct {
	ctx       *pulumi.Context
	name      string
	a         Args
	comp      *Job
	labels    map[string]string
	podLabels map[string]string
}

func (b builder) child() pulumi.ResourceOption { return pulumi.Parent(b.comp) }

func (b builder) meta(name string) *metav1.ObjectMetaArgs {
	return kube.Metadata(name, b.a.Namespace, b.labels)
}

func (b builder) build() error {
	a := b.a
	saMeta := b.meta(a.Name)
	if len(a.ServiceAccountAnnotations) > 0 {
		ann := pulumi.StringMap{}
		for k, v := range a.ServiceAccountAnnotations {
			ann[k] = v
		}
		saMeta.Annotations = ann
	}
	// The token is not automounted by default; only this job's pods opt in
	// (kubectl reads the API).
	sa, err := corev1.NewServiceAccount(b.ctx, b.name+"-sa", &corev1.ServiceAccountArgs{
		Metadata: saMeta, AutomountServiceAccountToken: pulumi.Bool(false),
	}, b.child())
	if err != nil {
		return fmt.Errorf("service account: %w", err)
	}
	role, err := rbacv1.NewRole(b.ctx, b.name+"-role", &rbacv1.RoleArgs{Metadata: b.meta(a.Name), Rules: readRules()}, b.child())
	if err != nil {
		return fmt.Errorf("role: %w", err)
	}
	if _, err := rbacv1.NewRoleBinding(b.ctx, b.name+"-rolebinding", &rbacv1.RoleBindingArgs{
		Metadata: b.meta(a.Name),
		RoleRef: rbacv1.RoleRefArgs{ApiGroup: pulumi.String("rbac.authorization.k8s.io"), Kind: pulumi.String("Role"),
			Name: role.Metadata.Name().Elem()},
		Subjects: rbacv1.SubjectArray{rbacv1.SubjectArgs{Kind: pulumi.String("ServiceAccount"),
			Name: sa.Metadata.Name().Elem(), Namespace: pulumi.String(a.Namespace)}},
	}, b.child()); err != nil {
		return fmt.Errorf("role binding: %w", err)
	}
	if err := b.networkPolicies(); err != nil {
		return err
	}
	dest := destination(a.Upload)
	cj, err := batchv1.NewCronJob(b.ctx, b.name+"-cronjob", &batchv1.CronJobArgs{
		Metadata: b.meta(a.Name),
		Spec: kube.MaintenanceCronJob(a.Schedule, b.labels, kube.Merge(a.PodLabels, b.podLabels), a.BackoffLimit, a.ActiveDeadlineSeconds,
			b.podSpec(sa.Metadata.Name().Elem())),
	}, b.child(), pulumi.DependsOn([]pulumi.Resource{role}))
	if err != nil {
		return fmt.Errorf("cron job: %w", err)
	}
	c := b.comp
	c.CronJobName, c.ServiceAccountName, c.Destination = cj.Metadata.Name().Elem(), sa.Metadata.Name().Elem(), dest
	return b.ctx.RegisterResourceOutputs(c, pulumi.Map{
		"cronJobName": c.CronJobName, "serviceAccountName": c.ServiceAccountName, "destination": c.Destination,
	})
}

// readRules grant get and list on ConfigResources, grouped by API group.
func readRules() rbacv1.PolicyRuleArray {
	byGroup := map[string][]string{}
	var groups []string
	for _, r := range ConfigResources {
		if _, ok := byGroup[r.Group]; !ok {
			groups = append(groups, r.Group)
		}
		byGroup[r.Group] = append(byGroup[r.Group], r.Name)
	}
	var rules rbacv1.PolicyRuleArray
	for _, g := range groups {
		rules = append(rules, rbacv1.PolicyRuleArgs{
			ApiGroups: kube.StringArray(g), Resources: kube.StringArray(byGroup[g]...), Verbs: kube.StringArray("get", "list"),
		})
	}
	return rules
}

// destination is the URL the runs write under.
func destination(u Upload) pulumi.StringOutput {
	switch u.Provider {
	case S3:
		return pulumi.Sprintf("s3://%s/%s", u.Bucket, u.Prefix)
	case GCS:
		return pulumi.Sprintf("gs://%s/%s", u.Bucket, u.Prefix)
	default:
		return pulumi.Sprintf("https://%s.blob.core.windows.net/%s/%s", u.Bucket, u.Container, u.Prefix)
	}
}
