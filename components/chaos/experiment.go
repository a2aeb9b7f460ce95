package chaos

import (
	"cmp"
	"strconv"
	"time"

	"github.com/mobile-mm-llm/mobile-mm-llm/components/kube"
	"github.com/robfig/cron/v3"
)

// APIVersion is Chaos Mesh's API group and version.
const APIVersion = "chaos-mesh.org/v1alpha1"

// Action is what a PodChaos does to the pods it selects.
type Action string

const (
	// PodFailure replaces the pods' containers with a pause image for
	// Duration: the pods stay scheduled but stop serving (the guide's).
	PodFailure Action = "pod-failure"
	// PodKill deletes the pods at once; their ReplicaSet recreates them.
	PodKill Action = "pod-kill"
)

// Mode is how many of the selected pods an experiment hits.
type Mode string

const (
	// One hits one random pod (Value must be 0).
	One Mode = "one"
	// All hits every selected pod (Value must be 0).
	All Mode = "all"
	// Fixed hits Value pods.
	Fixed Mode = "fixed"
	// FixedPercent hits Value percent of the pods (the guide's).
	FixedPercent Mode = "fixed-percent"
	// RandomMaxPercent hits a random share of at most Value percent.
	RandomMaxPercent Mode = "random-max-percent"
)

// Experiment defaults: the deployment guide's PodChaos.
const (
	// DefaultExperimentName names the experiment object.
	DefaultExperimentName = "mobile-multimodal-pod-failure"
	// DefaultPercent is the share of pods hit in the percent modes.
	DefaultPercent = 10
	// DefaultDuration is how long a pod-failure lasts.
	DefaultDuration = "60s"
	// scheduleHistoryLimit is how many finished runs a Schedule keeps.
	scheduleHistoryLimit = 5
	// scheduleStartingDeadline is how late (seconds) a missed run may start.
	scheduleStartingDeadline = 300
)

// Experiment is the PodChaos experiment against the inference pods.
type Experiment struct {
	// Name names the PodChaos (or Schedule) object (default
	// DefaultExperimentName).
	Name string
	// Action is PodFailure (default) or PodKill.
	Action Action
	// Mode chooses how many pods are hit (default FixedPercent).
	Mode Mode
	// Value is the count (Fixed) or percentage (FixedPercent,
	// RandomMaxPercent, default DefaultPercent); 0 for One and All.
	Value int
	// Duration is how long a pod-failure lasts, a Go duration such as "60s"
	// (default DefaultDuration); empty for PodKill, which is instantaneous.
	Duration string
	// GracePeriodSeconds is the pods' termination grace period for PodKill
	// (0: delete at once).
	GracePeriodSeconds int
	// Schedule is a standard five-field cron expression (or a descriptor
	// such as "@hourly") repeating the experiment as a Chaos Mesh Schedule;
	// empty runs it once, when created.
	Schedule string
}

func (e Experiment) withDefaults() Experiment {
	e.Name = cmp.Or(e.Name, DefaultExperimentName)
	e.Action = cmp.Or(e.Action, PodFailure)
	e.Mode = cmp.Or(e.Mode, FixedPercent)
	if e.Value == 0 && (e.Mode == FixedPercent || e.Mode == RandomMaxPercent) {
		e.Value = DefaultPercent
	}
	if e.Action == PodFailure {
		e.Duration = cmp.Or(e.Duration, DefaultDuration)
	}
	return e
}

// validate reports every bad field of a defaulted experiment, naming each
// through key (given the field's name, "Action").
func (e Experiment) validate(c *kube.Checker, key func(field string) string) {
	c.Name(key("Name"), e.Name)
	switch e.Mode {
	case One, All:
		if e.Value != 0 {
			c.Failf(key("Value"), "is %d; mode %q takes no value (leave it 0)", e.Value, e.Mode)
		}
	case Fixed:
		c.Min(key("Value"), e.Value, 1)
	case FixedPercent, RandomMaxPercent:
		c.Range(key("Value"), e.Value, 1, 100)
	default:
		c.Failf(key("Mode"), "is %q; use %q, %q, %q, %q or %q", e.Mode, One, All, Fixed, FixedPercent, RandomMaxPercent)
	}
	var duration time.Duration
	switch e.Action {
	case PodFailure:
		d, err := time.ParseDuration(e.Duration)
		switch {
		case err != nil:
			c.Failf(key("Duration"), "%q is not a duration such as 60s or 5m", e.Duration)
		case d <= 0:
			c.Failf(key("Duration"), "is %s; it must be above zero", e.Duration)
		}
		duration = d
		if e.GracePeriodSeconds != 0 {
			c.Failf(key("GracePeriodSeconds"), "applies to action %q only", PodKill)
		}
	case PodKill:
		if e.Duration != "" {
			c.Failf(key("Duration"), "is %q; action %q is instantaneous, leave it empty", e.Duration, PodKill)
		}
		c.Min(key("GracePeriodSeconds"), e.GracePeriodSeconds, 0)
	default:
		c.Failf(key("Action"), "is %q; use %q or %q", e.Action, PodFailure, PodKill)
	}
	if e.Schedule != "" {
		checkSchedule(c, key, e.Schedule, duration)
	}
}

// checkSchedule checks that schedule parses as Chaos Mesh parses it (the
// standard cron parser) and that a run of duration ends before the next
// one starts, which the Schedule's Forbid policy would otherwise skip.
func checkSchedule(c *kube.Checker, key func(string) string, schedule string, duration time.Duration) {
	s, err := cron.ParseStandard(schedule)
	if err != nil {
		c.Failf(key("Schedule"), "%q is not a cron expression such as \"0 10 * * 1-5\": %v", schedule, err)
		return
	}
	if gap := shortestGap(s); duration > 0 && gap > 0 && duration >= gap {
		c.Failf(key("Duration"), "is %s, not shorter than the %s between runs of %s %q", duration, gap, key("Schedule"), schedule)
	}
}

// shortestGap returns the shortest time between consecutive runs of s over
// its next runs from a fixed start (0 when it never runs).
func shortestGap(s cron.Schedule) time.Duration {
	const samples = 64
	prev := s.Next(time.Date(2025, time.January, 6, 0, 0, 0, 0, time.UTC))
	var gap time.Duration
	for range samples {
		if prev.IsZero() {
			break
		}
		next := s.Next(prev)
		if d := next.Sub(prev); !next.IsZero() && (gap == 0 || d < gap) {
			gap = d
		}
		prev = next
	}
	return gap
}

// podChaosSpec is the PodChaos spec: the guide's, against the pods labels
// select in namespace.
func (e Experiment) podChaosSpec(namespace string, labels map[string]string) map[string]any {
	spec := map[string]any{
		"action": string(e.Action),
		"mode":   string(e.Mode),
		"selector": map[string]any{
			"namespaces":     []any{namespace},
			"labelSelectors": labelMap(labels),
		},
	}
	if e.Value != 0 {
		spec["value"] = strconv.Itoa(e.Value)
	}
	switch e.Action {
	case PodFailure:
		spec["duration"] = e.Duration
	case PodKill:
		spec["gracePeriod"] = e.GracePeriodSeconds
	}
	return spec
}

// scheduleSpec wraps a PodChaos spec in a Schedule's: one run at a time,
// the last few kept for inspection.
func (e Experiment) scheduleSpec(podChaos map[string]any) map[string]any {
	return map[string]any{
		"schedule":                e.Schedule,
		"type":                    "PodChaos",
		"concurrencyPolicy":       "Forbid",
		"historyLimit":            scheduleHistoryLimit,
		"startingDeadlineSeconds": scheduleStartingDeadline,
		"podChaos":                podChaos,
	}
}

func labelMap(labels map[string]string) map[string]any {
	out := make(map[string]any, len(labels))
	for k, v := range labels {
		out[k] = v
	}
	return out
}
