package deploy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const deploymentYAML = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: mmllm
  labels: {app.kubernetes.io/part-of: mobile-mm-llm}
spec:
  selector:
    matchLabels: {app: api}
  template:
    metadata:
      labels: {app: api}
    spec:
      containers:
        - name: server
          image: ghcr.io/mobile-mm-llm/mmllm:v0.3.1
          resources:
            limits: {cpu: "2", memory: 4Gi}
          ports:
            - containerPort: 8080
`

const serviceMonitorYAML = `apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata:
  name: api
  namespace: mmllm
spec:
  endpoints: [{port: metrics}]
`

func TestValidateDocuments(t *testing.T) {
	for _, c := range []struct {
		name  string
		yaml  string
		typed []bool // per object, when valid
		err   string
	}{
		{name: "typed object", yaml: deploymentYAML, typed: []bool{true}},
		{name: "custom resource", yaml: serviceMonitorYAML, typed: []bool{false}},
		{name: "several documents, empty ones skipped", yaml: deploymentYAML + "---\n---\n" + serviceMonitorYAML, typed: []bool{true, false}},
		{name: "misspelt field", yaml: strings.Replace(deploymentYAML, "containerPort", "containerPrt", 1), err: `unknown field "spec.template.spec.containers[0].ports[0].containerPrt"`},
		{name: "wrong case", yaml: strings.Replace(deploymentYAML, "  selector:", "  Selector:", 1), err: `unknown field "spec.Selector"`},
		{name: "wrong type", yaml: strings.Replace(deploymentYAML, "spec:\n  selector", "spec:\n  replicas: two\n  selector", 1), err: "replicas"},
		{name: "bad quantity", yaml: strings.Replace(deploymentYAML, "memory: 4Gi", "memory: four", 1), err: "quantities must match"},
		{name: "duplicate field", yaml: strings.Replace(deploymentYAML, "  name: api\n", "  name: api\n  name: api2\n", 1), err: "already defined"},
		{name: "unknown kind", yaml: "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: {}\n", err: "example.com/v1/Widget w: a kind the validator does not know"},
		{name: "no name", yaml: strings.Replace(serviceMonitorYAML, "  name: api\n", "", 1), err: "metadata.name is required"},
		{name: "no kind", yaml: "apiVersion: v1\nmetadata: {name: x}\n", err: "apiVersion and kind are required"},
		{name: "custom resource without spec", yaml: "apiVersion: keda.sh/v1alpha1\nkind: ScaledObject\nmetadata: {name: s}\n", err: "spec must be an object"},
		{name: "custom resource with a stray field", yaml: serviceMonitorYAML + "extra: 1\n", err: `unknown field "extra"`},
		{name: "custom resource metadata checked", yaml: strings.Replace(serviceMonitorYAML, "  namespace:", "  namespce:", 1), err: `unknown field "metadata.namespce"`},
		{name: "not an object", yaml: "- a\n- b\n", err: "not an object"},
		{name: "syntax error", yaml: "apiVersion: v1\n kind: [\n", err: "document 1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			objs, errs := ValidateDocuments("f.yaml", []byte(c.yaml))
			if c.err != "" {
				require.Len(t, errs, 1)
				require.ErrorContains(t, errs[0], c.err)
				require.Contains(t, errs[0].Error(), "f.yaml: document")
				return
			}
			require.Empty(t, errs)
			require.Len(t, objs, len(c.typed))
			for i, o := range objs {
				require.Equal(t, c.typed[i], o.Typed, o.Kind)
				require.Equal(t, "f.yaml", o.File)
				require.Equal(t, "mmllm", o.Namespace)
			}
		})
	}
}

// writeTree writes files (relative path to content) under a new directory.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for rel, content := range files {
		p := filepath.Join(dir, rel)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	}
	return dir
}

func TestValidateManifestsReadsTheRenderLayout(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"0-crd/monitoring.yaml":     serviceMonitorYAML,
		"1-manifest/api.yaml":       deploymentYAML,
		"1-manifest/api-copy.yml":   deploymentYAML,
		"1-manifest/notes.txt":      "not yaml, not read",
		"1-manifest/empty/ignored/": "",
	})
	set, err := ValidateManifests(dir)
	require.NoError(t, err)
	require.Equal(t, 3, set.Files)
	require.Equal(t, map[string]int{"apps/v1/Deployment": 2, "monitoring.coreos.com/v1/ServiceMonitor": 1}, set.CountByKind())
	require.Equal(t, filepath.Join("0-crd", "monitoring.yaml"), set.Objects[0].File)
}

func TestValidateManifestsReportsEveryProblem(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"1-manifest/a.yaml": strings.Replace(deploymentYAML, "image:", "imag:", 1),
		"1-manifest/b.yaml": deploymentYAML + "---\napiVersion: v1\nkind: Sekret\nmetadata: {name: s}\n",
	})
	set, err := ValidateManifests(dir)
	require.Error(t, err)
	require.Contains(t, err.Error(), "2 problem(s)")
	require.Contains(t, err.Error(), filepath.Join("1-manifest", "a.yaml")+": document 1: apps/v1/Deployment api")
	require.Contains(t, err.Error(), filepath.Join("1-manifest", "b.yaml")+": document 2: v1/Sekret s")
	require.Len(t, set.Objects, 1, "the valid object is still listed")
}

func TestValidateManifestsNeedsObjects(t *testing.T) {
	_, err := ValidateManifests(t.TempDir())
	require.ErrorContains(t, err, "no .yaml files")
	_, err = ValidateManifests(writeTree(t, map[string]string{"a.yaml": "---\n"}))
	require.ErrorContains(t, err, "no objects")
	_, err = ValidateManifests(filepath.Join(t.TempDir(), "missing"))
	require.ErrorContains(t, err, "missing")
}
