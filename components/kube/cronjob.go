package kube

import (
	batchv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/batch/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// MaintenanceCronJob returns the spec of a CronJob for maintenance work
// such as backups: the schedule in UTC, no run while the last one is still
// going (Forbid), a run that could not start within an hour skipped, the
// last three successful and failed jobs kept. Each job's pod, labelled
// jobLabels plus podLabels, is retried backoffLimit times within
// deadlineSeconds.
func MaintenanceCronJob(schedule string, jobLabels, podLabels map[string]string, backoffLimit, deadlineSeconds int,
	pod corev1.PodSpecPtrInput) *batchv1.CronJobSpecArgs {
	return &batchv1.CronJobSpecArgs{
		Schedule:                   pulumi.String(schedule),
		TimeZone:                   pulumi.String("Etc/UTC"),
		ConcurrencyPolicy:          pulumi.String("Forbid"),
		StartingDeadlineSeconds:    pulumi.Int(3600),
		SuccessfulJobsHistoryLimit: pulumi.Int(3),
		FailedJobsHistoryLimit:     pulumi.Int(3),
		JobTemplate: &batchv1.JobTemplateSpecArgs{
			Metadata: &metav1.ObjectMetaArgs{Labels: StringMap(jobLabels)},
			Spec: &batchv1.JobSpecArgs{
				BackoffLimit:          pulumi.Int(backoffLimit),
				ActiveDeadlineSeconds: pulumi.Int(deadlineSeconds),
				Template: &corev1.PodTemplateSpecArgs{
					Metadata: &metav1.ObjectMetaArgs{Labels: StringMap(Merge(jobLabels, podLabels))},
					Spec:     pod,
				},
			},
		},
	}
}
