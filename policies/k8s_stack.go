package policies

import (
	"fmt"
	"slices"
)

// selector is a Kubernetes label selector.
type selector struct {
	matchLabels map[string]string
	exprs       []selectorExpr
}

// selectorExpr is one matchExpressions entry.
type selectorExpr struct {
	key, op string
	values  []string
}

// parseSelector reads a LabelSelector; an absent one is returned as empty.
func parseSelector(n node) (selector, error) {
	var s selector
	var err error
	if s.matchLabels, err = n.key("matchLabels").stringMap(); err != nil {
		return s, err
	}
	exprs, err := n.key("matchExpressions").items()
	if err != nil {
		return s, err
	}
	for _, e := range exprs {
		key, _, err := e.key("key").str()
		if err != nil {
			return s, err
		}
		op, _, err := e.key("operator").str()
		if err != nil {
			return s, err
		}
		values, err := e.key("values").strings()
		if err != nil {
			return s, err
		}
		switch op {
		case "In", "NotIn", "Exists", "DoesNotExist":
		default:
			return s, &fieldError{path: e.path + ".operator", err: fmt.Errorf("is %q, not In, NotIn, Exists or DoesNotExist", op)}
		}
		s.exprs = append(s.exprs, selectorExpr{key: key, op: op, values: values})
	}
	return s, nil
}

// empty reports whether the selector has no terms (it selects everything).
func (s selector) empty() bool { return len(s.matchLabels) == 0 && len(s.exprs) == 0 }

// matches reports whether the selector selects a pod with these labels.
func (s selector) matches(labels map[string]string) bool {
	for k, v := range s.matchLabels {
		if got, ok := labels[k]; !ok || got != v {
			return false
		}
	}
	for _, e := range s.exprs {
		v, has := labels[e.key]
		var ok bool
		switch e.op {
		case "In":
			ok = has && slices.Contains(e.values, v)
		case "NotIn":
			ok = !has || !slices.Contains(e.values, v)
		case "Exists":
			ok = has
		case "DoesNotExist":
			ok = !has
		}
		if !ok {
			return false
		}
	}
	return true
}

// scoped is a namespaced object with a label selector (a
// PodDisruptionBudget or a NetworkPolicy).
type scoped struct {
	r         Resource
	namespace string
	sel       selector
}

// selectors collects the objects of one kind with their selectors; objects
// whose selector cannot be read are reported as violations.
func selectors(resources []Resource, kind string, path ...string) ([]scoped, []Violation) {
	var out []scoped
	var bad []Violation
	for _, r := range resources {
		if r.k8sKind() != kind {
			continue
		}
		sel, err := parseSelector(props(r).at(path...))
		if err != nil {
			bad = append(bad, shapeViolation(r, err))
			continue
		}
		out = append(out, scoped{r: r, namespace: r.k8sNamespace(), sel: sel})
	}
	return out, bad
}

// workloads reads every workload of the stack; unreadable ones are reported.
func workloads(resources []Resource) ([]workload, []Violation) {
	var out []workload
	var bad []Violation
	for _, r := range resources {
		w, ok, err := workloadOf(r)
		switch {
		case !ok:
		case err != nil:
			bad = append(bad, shapeViolation(r, err))
		default:
			out = append(out, w)
		}
	}
	return out, bad
}

func checkPDBPerDeployment(resources []Resource, _ StackInfo) []Violation {
	pdbs, out := selectors(resources, "PodDisruptionBudget", "spec", "selector")
	ws, bad := workloads(resources)
	out = append(out, bad...)
	for _, w := range ws {
		if w.kind != "Deployment" {
			continue
		}
		covered := slices.ContainsFunc(pdbs, func(p scoped) bool {
			return p.namespace == w.namespace && !p.sel.empty() && p.sel.matches(w.labels)
		})
		if !covered {
			out = append(out, violation(w.r, "has no PodDisruptionBudget; add one in namespace %q whose selector matches the pod labels %v, with minAvailable or maxUnavailable",
				w.namespace, w.labels))
		}
	}
	return out
}

func checkNetworkPolicyCoverage(resources []Resource, _ StackInfo) []Violation {
	netpols, out := selectors(resources, "NetworkPolicy", "spec", "podSelector")
	ws, bad := workloads(resources)
	out = append(out, bad...)
	for _, w := range ws {
		covered := slices.ContainsFunc(netpols, func(p scoped) bool {
			return p.namespace == w.namespace && p.sel.matches(w.labels)
		})
		if !covered {
			out = append(out, violation(w.r, "runs pods no NetworkPolicy selects, so they accept any traffic; add a NetworkPolicy in namespace %q selecting %v (a default-deny one with podSelector {} covers all)",
				w.namespace, w.labels))
		}
	}
	return out
}

// scaleTarget is what an autoscaler scales.
type scaleTarget struct {
	r          Resource
	namespace  string
	kind, name string
}

func checkAutoscalerOwnsReplicas(resources []Resource, _ StackInfo) []Violation {
	var targets []scaleTarget
	var out []Violation
	for _, r := range resources {
		if _, _, ok := autoscalerOf(r); !ok {
			continue
		}
		ref := props(r).at("spec", "scaleTargetRef")
		kind, set, err := ref.key("kind").str()
		if err != nil {
			out = append(out, shapeViolation(r, err))
			continue
		}
		if !set {
			kind = "Deployment" // KEDA's default target kind
		}
		targets = append(targets, scaleTarget{r: r, namespace: r.k8sNamespace(), kind: kind, name: ref.key("name").nameOr("")})
	}
	ws, bad := workloads(resources)
	out = append(out, bad...)
	for _, w := range ws {
		for _, t := range targets {
			if t.kind != w.kind || t.namespace != w.namespace || (t.name != w.r.k8sName() && !t.r.dependsOn("spec", w.r.URN)) {
				continue
			}
			set, err := props(w.r).at("spec", "replicas").isSet()
			if err != nil {
				out = append(out, shapeViolation(w.r, err))
			} else if set {
				out = append(out, violation(w.r, "sets spec.replicas while %s scales it, so every update resets the replica count; remove spec.replicas",
					t.r.label()))
			}
			break
		}
	}
	return out
}
