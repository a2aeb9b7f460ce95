package deploy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	sigsjson "sigs.k8s.io/json"
)

// builtinKinds are the Kubernetes kinds decoded strictly into their
// k8s.io/api types, by "apiVersion/kind".
var builtinKinds = map[string]func() any{
	"v1/Namespace":                                     func() any { return &corev1.Namespace{} },
	"v1/ServiceAccount":                                func() any { return &corev1.ServiceAccount{} },
	"v1/Service":                                       func() any { return &corev1.Service{} },
	"v1/Secret":                                        func() any { return &corev1.Secret{} },
	"v1/ConfigMap":                                     func() any { return &corev1.ConfigMap{} },
	"v1/PersistentVolumeClaim":                         func() any { return &corev1.PersistentVolumeClaim{} },
	"v1/Pod":                                           func() any { return &corev1.Pod{} },
	"v1/LimitRange":                                    func() any { return &corev1.LimitRange{} },
	"v1/ResourceQuota":                                 func() any { return &corev1.ResourceQuota{} },
	"apps/v1/Deployment":                               func() any { return &appsv1.Deployment{} },
	"apps/v1/StatefulSet":                              func() any { return &appsv1.StatefulSet{} },
	"apps/v1/DaemonSet":                                func() any { return &appsv1.DaemonSet{} },
	"batch/v1/Job":                                     func() any { return &batchv1.Job{} },
	"batch/v1/CronJob":                                 func() any { return &batchv1.CronJob{} },
	"autoscaling/v2/HorizontalPodAutoscaler":           func() any { return &autoscalingv2.HorizontalPodAutoscaler{} },
	"policy/v1/PodDisruptionBudget":                    func() any { return &policyv1.PodDisruptionBudget{} },
	"networking.k8s.io/v1/Ingress":                     func() any { return &networkingv1.Ingress{} },
	"networking.k8s.io/v1/NetworkPolicy":               func() any { return &networkingv1.NetworkPolicy{} },
	"rbac.authorization.k8s.io/v1/Role":                func() any { return &rbacv1.Role{} },
	"rbac.authorization.k8s.io/v1/RoleBinding":         func() any { return &rbacv1.RoleBinding{} },
	"rbac.authorization.k8s.io/v1/ClusterRole":         func() any { return &rbacv1.ClusterRole{} },
	"rbac.authorization.k8s.io/v1/ClusterRoleBinding":  func() any { return &rbacv1.ClusterRoleBinding{} },
	"scheduling.k8s.io/v1/PriorityClass":               func() any { return &schedulingv1.PriorityClass{} },
	"storage.k8s.io/v1/StorageClass":                   func() any { return &storagev1.StorageClass{} },
	"apiextensions.k8s.io/v1/CustomResourceDefinition": nil, // checked as a custom resource
	"monitoring.coreos.com/v1/ServiceMonitor":          nil,
	"monitoring.coreos.com/v1/PodMonitor":              nil,
	"monitoring.coreos.com/v1/PrometheusRule":          nil,
	"keda.sh/v1alpha1/ScaledObject":                    nil,
	"keda.sh/v1alpha1/TriggerAuthentication":           nil,
	"chaos-mesh.org/v1alpha1/PodChaos":                 nil,
	"chaos-mesh.org/v1alpha1/Schedule":                 nil,
}

// customResource is what every object must be at least: the envelope of
// a custom resource, whose spec the validator has no type for.
type customResource struct {
	APIVersion string            `json:"apiVersion"`
	Kind       string            `json:"kind"`
	Metadata   metav1.ObjectMeta `json:"metadata"`
	Spec       json.RawMessage   `json:"spec"`
}

// Manifest is one validated object.
type Manifest struct {
	// File is the file it came from, relative to the directory validated.
	File string
	// APIVersion and Kind are its type.
	APIVersion, Kind string
	// Namespace and Name identify it.
	Namespace, Name string
	// Typed is whether it was decoded into a k8s.io/api type (false: a
	// custom resource, checked for apiVersion, kind, metadata and spec).
	Typed bool
}

// ManifestSet is what ValidateManifests read.
type ManifestSet struct {
	// Files is how many YAML files it read.
	Files int
	// Objects are the objects, in file then document order.
	Objects []Manifest
}

// CountByKind returns how many objects of each "apiVersion/kind" there are.
func (s *ManifestSet) CountByKind() map[string]int {
	out := map[string]int{}
	for _, m := range s.Objects {
		out[m.APIVersion+"/"+m.Kind]++
	}
	return out
}

// ValidateManifests reads every .yaml or .yml file below dir (the
// Kubernetes provider's renderYamlToDirectory output: 0-crd/ and
// 1-manifest/) and checks every document in it: objects of a built-in kind
// decode strictly into their k8s.io/api type (an unknown, misspelt or
// wrongly cased field, a duplicate field or a wrong type fails), custom
// resources of a known kind need apiVersion, kind, metadata.name and a
// spec, and any other kind fails. All problems are returned together, each
// naming its file, document and object.
func ValidateManifests(dir string) (*ManifestSet, error) {
	var files []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if ext := filepath.Ext(path); !d.IsDir() && (ext == ".yaml" || ext == ".yml") {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("manifests in %s: %w", dir, err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("manifests in %s: no .yaml files", dir)
	}
	slices.Sort(files)
	set := &ManifestSet{Files: len(files)}
	var errs []error
	for _, path := range files {
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			rel = path
		}
		data, err := os.ReadFile(path)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", rel, err))
			continue
		}
		objs, ferrs := ValidateDocuments(rel, data)
		set.Objects = append(set.Objects, objs...)
		errs = append(errs, ferrs...)
	}
	if len(errs) > 0 {
		return set, fmt.Errorf("manifests in %s: %d problem(s):\n%w", dir, len(errs), errors.Join(errs...))
	}
	if len(set.Objects) == 0 {
		return set, fmt.Errorf("manifests in %s: %d file(s) but no objects", dir, len(files))
	}
	return set, nil
}

// ValidateDocuments checks every YAML document of data (read from file)
// as ValidateManifests does; empty documents are skipped.
func ValidateDocuments(file string, data []byte) ([]Manifest, []error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var objs []Manifest
	var errs []error
	for doc := 1; ; doc++ {
		var v any
		err := dec.Decode(&v)
		if errors.Is(err, io.EOF) {
			break
		}
		where := fmt.Sprintf("%s: document %d", file, doc)
		if err != nil {
			// The decoder cannot resynchronise after a syntax error.
			errs = append(errs, fmt.Errorf("%s: %w", where, err))
			break
		}
		if v == nil {
			continue
		}
		m, err := validateObject(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", where, err))
			continue
		}
		m.File = file
		objs = append(objs, m)
	}
	return objs, errs
}

// validateObject checks one decoded YAML document.
func validateObject(v any) (Manifest, error) {
	obj, ok := v.(map[string]any)
	if !ok {
		return Manifest{}, fmt.Errorf("not an object but %T", v)
	}
	raw, err := json.Marshal(obj)
	if err != nil {
		return Manifest{}, fmt.Errorf("not representable as JSON: %w", err)
	}
	var env customResource
	if err := strict(raw, &env, false); err != nil {
		return Manifest{}, err
	}
	m := Manifest{APIVersion: env.APIVersion, Kind: env.Kind, Namespace: env.Metadata.Namespace, Name: env.Metadata.Name}
	id := fmt.Sprintf("%s %s", m.APIVersion+"/"+m.Kind, m.Name)
	switch {
	case m.APIVersion == "" || m.Kind == "":
		return m, fmt.Errorf("object %q: apiVersion and kind are required", m.Name)
	case m.Name == "":
		return m, fmt.Errorf("%s: metadata.name is required", id)
	}
	newObj, known := builtinKinds[m.APIVersion+"/"+m.Kind]
	switch {
	case !known:
		return m, fmt.Errorf("%s: a kind the validator does not know; add it to builtinKinds (typed, or nil for a custom resource)", id)
	case newObj == nil:
		if err := strict(raw, &customResource{}, true); err != nil {
			return m, fmt.Errorf("%s: %w", id, err)
		}
		if len(env.Spec) == 0 || env.Spec[0] != '{' {
			return m, fmt.Errorf("%s: spec must be an object", id)
		}
		return m, nil
	default:
		if err := strict(raw, newObj(), true); err != nil {
			return m, fmt.Errorf("%s: %w", id, err)
		}
		m.Typed = true
		return m, nil
	}
}

// strict decodes raw into dst case-sensitively, failing on duplicate
// fields and, with unknown set, on fields dst has no place for.
func strict(raw []byte, dst any, unknown bool) error {
	opts := []sigsjson.StrictOption{sigsjson.DisallowDuplicateFields}
	if unknown {
		opts = append(opts, sigsjson.DisallowUnknownFields)
	}
	serrs, err := sigsjson.UnmarshalStrict(raw, dst, opts...)
	if err != nil {
		return fmt.Errorf("decoding: %w", err)
	}
	if len(serrs) > 0 {
		msgs := make([]string, len(serrs))
		for i, e := range serrs {
			msgs[i] = e.Error()
		}
		return fmt.Errorf("strict decoding: %s", strings.Join(msgs, "; "))
	}
	return nil
}
