package stack

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/mobile-mm-llm/mobile-mm-llm/components/chaos"
	"github.com/mobile-mm-llm/mobile-mm-llm/components/kube"
)

// chaosArgs are the chaos component's Args from the key chaos; the target
// (the server's namespace and pod labels) is the caller's.
func chaosArgs(c ChaosConfig, namespace string, targetLabels map[string]string) *chaos.Args {
	return &chaos.Args{
		Runtime: chaos.Runtime(c.Runtime), SocketPath: c.SocketPath,
		TargetNamespace: namespace, TargetLabels: targetLabels,
		Experiment: chaos.Experiment{
			Action: chaos.Action(c.Action), Mode: chaos.Mode(c.Mode), Value: c.Value, Duration: c.Duration,
			Schedule: c.Schedule, GracePeriodSeconds: c.GracePeriodSeconds,
		},
	}
}

// validateChaos checks the key chaos with the component's own checks,
// naming the config keys (chaos.action, not Experiment.Action).
func (c *Config) validateChaos(ch *kube.Checker) {
	key := FullKey("chaos")
	if !c.Chaos.Enabled {
		if c.Chaos != (ChaosConfig{}) {
			ch.Failf(key, "sets the runtime or the experiment but chaos.enabled is false")
		}
		return
	}
	if c.Namespace == chaos.DefaultNamespace {
		ch.Failf(FullKey("namespace"), "is %q, Chaos Mesh's namespace (chaos.enabled); name the server's namespace otherwise", c.Namespace)
	}
	chaos.CheckSettings(ch, *chaosArgs(c.Chaos, c.Namespace, nil), func(field string) string {
		return key + "." + lowerFirst(strings.TrimPrefix(field, "Experiment."))
	})
}

// lowerFirst is s with its first letter in lower case: a Go field name
// as the config key spells it.
func lowerFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToLower(r)) + s[n:]
}
