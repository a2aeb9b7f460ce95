package gcp

import (
	"fmt"

	"github.com/mobile-mm-llm/mobile-mm-llm/components/kube"
	"github.com/pulumi/pulumi-gcp/sdk/v7/go/gcp/storage"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// BackupWriterArgs configure the backup job's (components/backup) access to
// the model bucket through GKE Workload Identity Federation.
type BackupWriterArgs struct {
	// Project and ProjectNumber are the cluster's project (its workload
	// identity pool is PROJECT.svc.id.goog).
	Project, ProjectNumber string
	// Bucket is the model bucket's name.
	Bucket pulumi.StringInput
	// Namespace and ServiceAccount are the Kubernetes identity granted.
	Namespace, ServiceAccount string
	// Prefix is the object prefix it may write under ("backups").
	Prefix string
}

// WorkloadPrincipal is the IAM principal of a Kubernetes ServiceAccount
// under GKE Workload Identity Federation (no Google service account).
func WorkloadPrincipal(project, projectNumber, namespace, serviceAccount string) string {
	return fmt.Sprintf("principal://iam.googleapis.com/projects/%s/locations/global/workloadIdentityPools/%s.svc.id.goog/subject/ns/%s/sa/%s",
		projectNumber, project, namespace, serviceAccount)
}

// NewBackupWriterBinding grants the Kubernetes ServiceAccount
// roles/storage.objectCreator on the bucket, conditioned on object names
// under Prefix/ (the bucket uses uniform access, which IAM conditions
// need): it can create objects there and neither read, list, overwrite nor
// delete any. Pass the project's provider (and a parent) in opts.
func NewBackupWriterBinding(ctx *pulumi.Context, name string, a BackupWriterArgs, opts ...pulumi.ResourceOption) (*storage.BucketIAMMember, error) {
	c := kube.NewChecker("gcp.NewBackupWriterBinding")
	c.Required("Project", a.Project)
	if !number.MatchString(a.ProjectNumber) {
		c.Failf("ProjectNumber", "%q is not a project number", a.ProjectNumber)
	}
	c.Name("Namespace", a.Namespace)
	c.Name("ServiceAccount", a.ServiceAccount)
	c.Required("Prefix", a.Prefix)
	if a.Bucket == nil {
		c.Failf("Bucket", "is required")
	}
	if err := c.Err(); err != nil {
		return nil, err
	}
	m, err := storage.NewBucketIAMMember(ctx, name, &storage.BucketIAMMemberArgs{
		Bucket: a.Bucket,
		Role:   pulumi.String("roles/storage.objectCreator"),
		Member: pulumi.String(WorkloadPrincipal(a.Project, a.ProjectNumber, a.Namespace, a.ServiceAccount)),
		Condition: storage.BucketIAMMemberConditionArgs{
			Title:      pulumi.String("backup-prefix-only"),
			Expression: pulumi.Sprintf(`resource.name.startsWith("projects/_/buckets/%s/objects/%s/")`, a.Bucket, a.Prefix),
		},
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("backup writer binding %s: %w", name, err)
	}
	return m, nil
}
