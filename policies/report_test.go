package policies

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestReport(t *testing.T) {
	set, err := DefaultSet()
	require.NoError(t, err)
	stack := stackWith(apiWith(true, "hostNetwork"), release("kube-prometheus-stack", ""))
	vs := set.Check(stack, production)
	rep := NewReport(production, vs)
	require.Equal(t, 2, rep.Mandatory, "host namespaces and the missing PDB: %+v", vs)
	require.Equal(t, 1, rep.Advisory)

	var table bytes.Buffer
	require.NoError(t, rep.WriteTable(&table))
	lines := strings.Split(strings.TrimSpace(table.String()), "\n")
	require.Len(t, lines, 5)
	require.Regexp(t, `^RULE\s+SEVERITY\s+RESOURCE\s+MESSAGE$`, lines[0])
	require.Regexp(t, `^k8s-no-host-namespaces\s+mandatory\s+Deployment/api\s+Deployment "api": sets`, lines[1])
	require.Regexp(t, `^k8s-pdb-per-deployment\s+mandatory\s+Deployment/api\s+`, lines[2])
	require.Regexp(t, `^k8s-helm-chart-pinned\s+advisory\s+Release/monitoring\s+`, lines[3])
	require.Equal(t, "stack prod-us-east-1: FAILED (2 mandatory, 1 advisory violations)", lines[4])

	var js bytes.Buffer
	require.NoError(t, rep.WriteJSON(&js))
	var back Report
	require.NoError(t, json.Unmarshal(js.Bytes(), &back))
	require.Equal(t, rep, back)
	require.Contains(t, js.String(), `"rule": "k8s-no-host-namespaces"`)

	var empty bytes.Buffer
	require.NoError(t, NewReport(development, nil).WriteJSON(&empty))
	require.Contains(t, empty.String(), `"violations": []`)
	empty.Reset()
	require.NoError(t, NewReport(development, nil).WriteTable(&empty))
	require.Equal(t, "stack dev: passed (0 mandatory, 0 advisory violations)\n", empty.String())
}

func TestWriteRules(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, WriteRules(&out, Rules()))
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	require.Len(t, lines, len(Rules())+1)
	i := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, "k8s-pdb-per-deployment ") })
	require.GreaterOrEqual(t, i, 1)
	require.Regexp(t, `^k8s-pdb-per-deployment\s+mandatory\s+stack\s+Every Deployment`, lines[i])
}
