package policies

import "strings"

// BackupComponent is the value of app.kubernetes.io/component that marks a
// CronJob as the stack's backup job.
const BackupComponent = "backup"

// backupPlanTypes are cloud resources that schedule backups.
var backupPlanTypes = []string{
	"aws:backup/plan:Plan",
	"gcp:gkebackup/backupPlan:BackupPlan",
	"azure-native:dataprotection:BackupPolicy",
	"azure-native:recoveryservices:ProtectionPolicy",
}

// cloudAlertTypes are cloud resources that raise alerts.
var cloudAlertTypes = []string{
	"aws:cloudwatch/metricAlarm:MetricAlarm",
	"gcp:monitoring/alertPolicy:AlertPolicy",
	"azure-native:insights:MetricAlert",
	"azure-native:insights:ScheduledQueryRule",
}

// isBackupCronJob reports whether r is a CronJob labelled or named as a
// backup job.
func isBackupCronJob(r Resource) (bool, error) {
	if r.k8sKind() != "CronJob" {
		return false, nil
	}
	labels, err := props(r).at("metadata", "labels").stringMap()
	if err != nil {
		return false, err
	}
	return labels[ComponentLabel] == BackupComponent ||
		strings.Contains(strings.ToLower(r.k8sName()), BackupComponent), nil
}

func checkBackupSchedule(resources []Resource, stack StackInfo) []Violation {
	if !stack.Production {
		return nil
	}
	var out []Violation
	for _, r := range resources {
		if r.is(backupPlanTypes...) {
			return nil
		}
		ok, err := isBackupCronJob(r)
		if err != nil {
			out = append(out, shapeViolation(r, err))
		}
		if ok {
			return nil
		}
	}
	return append(out, stackViolation(stack, "is a production stack with no backup schedule; add the backup CronJob (label %s=%s) or a cloud backup plan",
		ComponentLabel, BackupComponent))
}

// alertCount counts the alerting rules of a PrometheusRule.
func alertCount(r Resource) (int, error) {
	groups, err := props(r).at("spec", "groups").items()
	if err != nil {
		return 0, err
	}
	n := 0
	for _, g := range groups {
		rules, err := g.key("rules").items()
		if err != nil {
			return n, err
		}
		for _, rule := range rules {
			name, _, err := rule.key("alert").str()
			if err != nil {
				return n, err
			}
			if name != "" {
				n++
			}
		}
	}
	return n, nil
}

func checkAlertRules(resources []Resource, stack StackInfo) []Violation {
	if !stack.Production {
		return nil
	}
	var out []Violation
	for _, r := range resources {
		if r.is(cloudAlertTypes...) {
			return nil
		}
		if !r.is("kubernetes:monitoring.coreos.com/v1:PrometheusRule") {
			continue
		}
		n, err := alertCount(r)
		if err != nil {
			out = append(out, shapeViolation(r, err))
		}
		if n > 0 {
			return nil
		}
	}
	return append(out, stackViolation(stack, "is a production stack with no alert rules; add a PrometheusRule with the runbooks' alerts (or cloud alarms)"))
}
