package monitoring

import (
	"encoding/json"
	"fmt"
)

// Panel is one time-series panel of the dashboard.
type Panel struct {
	// Title is the panel's title.
	Title string
	// Unit is Grafana's unit ("reqps", "s", "percentunit", "short", "percent").
	Unit string
	// Queries are PromQL expressions with their legends.
	Queries []Query
}

// Query is one PromQL expression of a panel.
type Query struct {
	// Expr is the PromQL expression.
	Expr string
	// Legend is Grafana's legend template ("{{pod}}").
	Legend string
}

// DashboardPanels returns the dashboard's panels for t: request rate, P95
// latency, error rate, queue length and GPU utilization (from NVIDIA's DCGM
// exporter, which the GPU operator runs; empty on CPU-only clusters).
func DashboardPanels(t Target) []Panel {
	return []Panel{
		{Title: "Request rate", Unit: "reqps", Queries: []Query{{
			Expr:   fmt.Sprintf(`sum by (task, status) (rate(mobile_multimodal_requests_total%s[5m]))`, t.server()),
			Legend: "{{task}} {{status}}",
		}}},
		{Title: "Inference latency (P95)", Unit: "s", Queries: []Query{{
			Expr:   fmt.Sprintf(`histogram_quantile(0.95, sum by (le, task) (rate(mobile_multimodal_inference_duration_seconds_bucket%s[5m])))`, t.server()),
			Legend: "P95 {{task}}",
		}}},
		{Title: "Error rate", Unit: "percentunit", Queries: []Query{
			{
				Expr:   fmt.Sprintf(`sum(rate(mobile_multimodal_requests_total%s[5m])) / sum(rate(mobile_multimodal_requests_total%s[5m]))`, t.server(`status=~"5.."`), t.server()),
				Legend: "5xx (SLA)",
			},
			{
				Expr:   fmt.Sprintf(`sum(rate(mobile_multimodal_errors_total%s[5m])) / sum(rate(mobile_multimodal_requests_total%s[5m]))`, t.server(), t.server()),
				Legend: "all >= 400",
			},
		}},
		{Title: "Queue length", Unit: "short", Queries: []Query{
			{Expr: fmt.Sprintf(`sum(mobile_multimodal_inference_queue_length%s)`, t.server()), Legend: "total"},
			{Expr: fmt.Sprintf(`mobile_multimodal_inference_queue_length%s`, t.server()), Legend: "{{pod}}"},
		}},
		{Title: "GPU utilization", Unit: "percent", Queries: []Query{{
			Expr:   fmt.Sprintf(`avg by (pod) (DCGM_FI_DEV_GPU_UTIL%s)`, t.selector(fmt.Sprintf(`pod=~"%s-.*"`, t.Deployment))),
			Legend: "{{pod}}",
		}}},
	}
}

// DashboardJSON renders the panels as a Grafana dashboard with uid, title
// and a Prometheus datasource variable, two panels per row.
func DashboardJSON(uid, title string, panels []Panel) (string, error) {
	type target struct {
		RefID        string            `json:"refId"`
		Expr         string            `json:"expr"`
		LegendFormat string            `json:"legendFormat"`
		Datasource   map[string]string `json:"datasource"`
	}
	datasource := map[string]string{"type": "prometheus", "uid": "${datasource}"}
	var out []map[string]any
	for i, p := range panels {
		var targets []target
		for j, q := range p.Queries {
			targets = append(targets, target{RefID: string(rune('A' + j)), Expr: q.Expr, LegendFormat: q.Legend, Datasource: datasource})
		}
		out = append(out, map[string]any{
			"id":          i + 1,
			"type":        "timeseries",
			"title":       p.Title,
			"datasource":  datasource,
			"gridPos":     map[string]int{"h": 8, "w": 12, "x": 12 * (i % 2), "y": 8 * (i / 2)},
			"fieldConfig": map[string]any{"defaults": map[string]any{"unit": p.Unit}, "overrides": []any{}},
			"targets":     targets,
		})
	}
	d := map[string]any{
		"uid":           uid,
		"title":         title,
		"tags":          []string{"mobile-mm-llm"},
		"timezone":      "browser",
		"schemaVersion": 39,
		"refresh":       "30s",
		"time":          map[string]string{"from": "now-6h", "to": "now"},
		"templating": map[string]any{"list": []any{map[string]any{
			"name": "datasource", "label": "Data source", "type": "datasource", "query": "prometheus",
			"current": map[string]string{"text": "Prometheus", "value": "prometheus"},
		}}},
		"panels": out,
	}
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return "", fmt.Errorf("dashboard %q: %w", uid, err)
	}
	return string(b), nil
}
