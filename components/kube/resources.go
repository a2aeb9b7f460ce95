package kube

import (
	"cmp"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
)

// Resources are one container's CPU and memory requests and limits, as
// Kubernetes quantities ("500m", "2Gi"). The policy rules require all four.
type Resources struct {
	// CPURequest is the CPU the scheduler reserves, e.g. "500m".
	CPURequest string
	// CPULimit is the CPU the container may use, e.g. "2".
	CPULimit string
	// MemoryRequest is the memory the scheduler reserves, e.g. "2Gi".
	MemoryRequest string
	// MemoryLimit is the memory above which the container is killed, e.g. "8Gi".
	MemoryLimit string
}

// Or returns r with its empty fields taken from def.
func (r Resources) Or(def Resources) Resources {
	return Resources{
		CPURequest: cmp.Or(r.CPURequest, def.CPURequest), CPULimit: cmp.Or(r.CPULimit, def.CPULimit),
		MemoryRequest: cmp.Or(r.MemoryRequest, def.MemoryRequest), MemoryLimit: cmp.Or(r.MemoryLimit, def.MemoryLimit),
	}
}

// Requirements returns r as a container's resources; extra (an extended
// resource such as nvidia.com/gpu) is set as both request and limit.
func (r Resources) Requirements(extra map[string]string) *corev1.ResourceRequirementsArgs {
	req := map[string]string{"cpu": r.CPURequest, "memory": r.MemoryRequest}
	lim := map[string]string{"cpu": r.CPULimit, "memory": r.MemoryLimit}
	return &corev1.ResourceRequirementsArgs{
		Requests: StringMap(Merge(req, extra)),
		Limits:   StringMap(Merge(lim, extra)),
	}
}

// quantityPattern is the syntax of a Kubernetes resource quantity.
var quantityPattern = regexp.MustCompile(`^([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+|[numkMGTPE]|[KMGTPE]i)?$`)

// quantitySuffixes are the multipliers of the quantity suffixes.
var quantitySuffixes = map[string]float64{
	"": 1, "n": 1e-9, "u": 1e-6, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18,
	"Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30, "Ti": 1 << 40, "Pi": 1 << 50, "Ei": 1 << 60,
}

// ParseQuantity returns the value of a non-negative Kubernetes quantity
// ("500m" is 0.5, "2Gi" is 2147483648), close enough to compare two.
func ParseQuantity(q string) (float64, error) {
	m := quantityPattern.FindStringSubmatch(q)
	if m == nil {
		return 0, fmt.Errorf("%q is not a Kubernetes quantity (e.g. 500m, 2, 512Mi, 8Gi)", q)
	}
	num, suffix := m[1], m[3]
	if strings.ContainsAny(suffix, "eE") && suffix != "E" {
		v, err := strconv.ParseFloat(num+suffix, 64)
		if err != nil {
			return 0, fmt.Errorf("quantity %q: %w", q, err)
		}
		return v, nil
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0, fmt.Errorf("quantity %q: %w", q, err)
	}
	return v * quantitySuffixes[suffix], nil
}
