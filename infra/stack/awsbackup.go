package stack

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/mobile-mm-llm/mobile-mm-llm/components/kube"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/backup"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// S3BackupTypeToken is the S3Backup component's type.
const S3BackupTypeToken = "mobile-mm-llm:backup:S3Backup"

// s3BackupPolicies are the AWS-managed policies AWS Backup's role needs to
// back up and restore S3 buckets.
var s3BackupPolicies = []string{"AWSBackupServiceRolePolicyForS3Backup", "AWSBackupServiceRolePolicyForS3Restore"}

// S3Backup is an AWS Backup plan for S3 buckets: a vault encrypted with its
// own rotating KMS key, one scheduled rule with a retention, the role AWS
// Backup assumes, and the selection of the buckets (which must be
// versioned, as the model store's are).
type S3Backup struct {
	pulumi.ResourceState

	// VaultName is the backup vault's name (for restores).
	VaultName pulumi.StringOutput `pulumi:"vaultName"`
	// PlanID is the backup plan's ID.
	PlanID pulumi.StringOutput `pulumi:"planId"`
	// RoleARN is the role AWS Backup assumes, which restore jobs use too.
	RoleARN pulumi.StringOutput `pulumi:"roleArn"`
}

// s3BackupArgs configure an S3Backup; the program fills them from
// validated config.
type s3BackupArgs struct {
	// prefix names the vault, plan and selection ("mmllm-<stack>-models").
	prefix string
	// buckets are the bucket ARNs backed up.
	buckets pulumi.StringArrayInput
	// schedule is a validated five-field cron schedule or macro, in UTC.
	schedule string
	// retentionDays keeps the recovery points.
	retentionDays int
	// tags are put on every taggable resource.
	tags map[string]string
}

// newS3Backup creates the plan. Pass the region's AWS provider in opts.
func newS3Backup(ctx *pulumi.Context, name string, a s3BackupArgs, opts ...pulumi.ResourceOption) (*S3Backup, error) {
	cron, err := awsCron(a.schedule)
	if err != nil {
		return nil, fmt.Errorf("s3 backup %q: %w", name, err)
	}
	comp := &S3Backup{}
	if err := ctx.RegisterComponentResource(S3BackupTypeToken, name, comp, opts...); err != nil {
		return nil, fmt.Errorf("s3 backup %q: %w", name, err)
	}
	child := pulumi.Parent(comp)
	tags := kube.StringMap(a.tags)
	key, err := kms.NewKey(ctx, name+"-vault", &kms.KeyArgs{
		Description:       pulumi.Sprintf("Recovery points of AWS Backup vault %s", a.prefix),
		EnableKeyRotation: pulumi.Bool(true),
		Tags:              tags,
	}, child)
	if err != nil {
		return nil, fmt.Errorf("s3 backup %q: vault key: %w", name, err)
	}
	vault, err := backup.NewVault(ctx, name, &backup.VaultArgs{Name: pulumi.String(a.prefix), KmsKeyArn: key.Arn, Tags: tags}, child)
	if err != nil {
		return nil, fmt.Errorf("s3 backup %q: vault: %w", name, err)
	}
	plan, err := backup.NewPlan(ctx, name, &backup.PlanArgs{
		Name: pulumi.String(a.prefix),
		Rules: backup.PlanRuleArray{backup.PlanRuleArgs{
			RuleName:                   pulumi.String("scheduled"),
			TargetVaultName:            vault.Name,
			Schedule:                   pulumi.String(cron),
			ScheduleExpressionTimezone: pulumi.String("Etc/UTC"),
			StartWindow:                pulumi.Int(60),
			CompletionWindow:           pulumi.Int(24 * 60),
			Lifecycle:                  backup.PlanRuleLifecycleArgs{DeleteAfter: pulumi.Int(a.retentionDays)},
			RecoveryPointTags:          tags,
		}},
		Tags: tags,
	}, child)
	if err != nil {
		return nil, fmt.Errorf("s3 backup %q: plan: %w", name, err)
	}
	role, err := iam.NewRole(ctx, name, &iam.RoleArgs{
		AssumeRolePolicy: pulumi.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"backup.amazonaws.com"},"Action":"sts:AssumeRole"}]}`),
		Tags:             tags,
	}, child)
	if err != nil {
		return nil, fmt.Errorf("s3 backup %q: role: %w", name, err)
	}
	var attached []pulumi.Resource
	for _, p := range s3BackupPolicies {
		att, err := iam.NewRolePolicyAttachment(ctx, name+"-"+strings.TrimPrefix(p, "AWSBackupServiceRolePolicyFor"), &iam.RolePolicyAttachmentArgs{
			Role: role.Name, PolicyArn: pulumi.String("arn:aws:iam::aws:policy/" + p),
		}, child)
		if err != nil {
			return nil, fmt.Errorf("s3 backup %q: policy %s: %w", name, p, err)
		}
		attached = append(attached, att)
	}
	if _, err := backup.NewSelection(ctx, name, &backup.SelectionArgs{
		Name: pulumi.String(a.prefix), PlanId: plan.ID(), IamRoleArn: role.Arn, Resources: a.buckets,
	}, child, pulumi.DependsOn(attached)); err != nil {
		return nil, fmt.Errorf("s3 backup %q: selection: %w", name, err)
	}
	comp.VaultName, comp.PlanID, comp.RoleARN = vault.Name, plan.ID().ToStringOutput(), role.Arn
	if err := ctx.RegisterResourceOutputs(comp, pulumi.Map{"vaultName": comp.VaultName, "planId": comp.PlanID, "roleArn": comp.RoleARN}); err != nil {
		return nil, fmt.Errorf("s3 backup %q: %w", name, err)
	}
	return comp, nil
}

// cronMacros are the cron macros as five fields, for the cloud schedulers
// that take fields only (AWS Backup, Backup for GKE).
var cronMacros = map[string]string{
	"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
	"@weekly": "0 0 * * SUN", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
}

// cronFields returns a validated schedule as five fields, macros expanded.
func cronFields(schedule string) string {
	s := strings.TrimSpace(schedule)
	if m, ok := cronMacros[s]; ok {
		return m
	}
	return s
}

// minuteField is a single minute: AWS Backup runs at most hourly.
var minuteField = regexp.MustCompile(`^[0-5]?[0-9]$`)

// awsCron converts a five-field cron schedule (or macro) to AWS's
// cron(MIN HOUR DOM MONTH DOW YEAR): one of day-of-month and day-of-week
// must be "?", and AWS numbers weekdays from 1 (Sunday), so numeric
// weekdays are refused rather than silently shifted.
func awsCron(schedule string) (string, error) {
	f := strings.Fields(cronFields(schedule))
	switch {
	case len(f) != 5:
		return "", fmt.Errorf("%q is not a five-field cron schedule such as \"17 3 * * *\" or @daily", schedule)
	case !minuteField.MatchString(f[0]):
		return "", fmt.Errorf("%q: give one minute (0-59); AWS Backup runs at most hourly", schedule)
	case strings.ContainsAny(f[4], "0123456789"):
		return "", fmt.Errorf("%q: name the weekdays (MON-FRI); AWS numbers them from Sunday = 1, cron from Sunday = 0", schedule)
	case f[4] == "*" || f[4] == "?":
		f[4] = "?"
	case f[2] == "*" || f[2] == "?":
		f[2] = "?"
	default:
		return "", fmt.Errorf("%q sets both a day of the month and a weekday, which AWS schedules cannot combine", schedule)
	}
	return "cron(" + strings.Join(f, " ") + " *)", nil
}

// checkAWSSchedule records a schedule AWS Backup cannot run under key.
func checkAWSSchedule(ch *kube.Checker, key, schedule string) {
	if _, err := awsCron(schedule); err != nil {
		ch.Failf(key, "%s", err.Error())
	}
}
