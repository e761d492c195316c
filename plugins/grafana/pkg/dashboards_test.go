package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// dashboard is the part of a dashboard JSON the test reads.
type dashboard struct {
	UID    string `json:"uid"`
	Panels []struct {
		Title      string `json:"title"`
		Datasource struct {
			Type string `json:"type"`
			UID  string `json:"uid"`
		} `json:"datasource"`
		Targets []map[string]any `json:"targets"`
	} `json:"panels"`
	Templating struct {
		List []struct {
			Name  string         `json:"name"`
			Query map[string]any `json:"query"`
		} `json:"list"`
	} `json:"templating"`
}

func readDashboard(t *testing.T, name string) dashboard {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "provisioning", "dashboards", name))
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return d
}

// TestProvisionedDashboards runs every panel of the shipped dashboards
// against a real server: the TSBS devops panels through the plugin (with
// the multi-value host variable formatted as the frontend formats it), the
// server panels' PromQL through TidalDB's Prometheus API, and checks the
// data-source provisioning names the uids the dashboards use.
func TestProvisionedDashboards(t *testing.T) {
	prov, err := os.ReadFile(filepath.Join("..", "provisioning", "datasources", "tidaldb.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"uid: tidaldb\n", "type: " + PluginID, "uid: tidaldb-prom\n", "type: prometheus"} {
		if !strings.Contains(string(prov), want) {
			t.Fatalf("datasources/tidaldb.yaml lacks %q", want)
		}
	}
	srv := startTidal(t)
	ctx := ctxT(t)
	loadDevops(ctx, t, srv, "AKID", "secret")
	p := startPlugin(t)
	ds := dsConfig{id: 30, url: srv.url, jsonData: map[string]any{"defaultDatabase": "devops", "defaultTable": "cpu", "defaultMeasure": "usage_user"}}

	devops := readDashboard(t, "tsbs-devops.json")
	if len(devops.Panels) == 0 || len(devops.Templating.List) != 1 {
		t.Fatalf("tsbs-devops: %d panels, %d variables", len(devops.Panels), len(devops.Templating.List))
	}
	v := devops.Templating.List[0]
	vres := p.query(ctx, t, ds, nil, dq("V", v.Query))
	if r := vres.Responses["V"]; r.Error != nil || len(r.Frames) == 0 || r.Frames[0].Rows() != fixtureHosts {
		t.Fatalf("variable %s: %v", v.Name, r.Error)
	}
	for _, panel := range devops.Panels {
		if panel.Datasource.UID != "tidaldb" || panel.Datasource.Type != PluginID {
			t.Fatalf("panel %q uses data source %+v", panel.Title, panel.Datasource)
		}
		for _, target := range panel.Targets {
			target["rawQuery"] = strings.ReplaceAll(target["rawQuery"].(string), "$hostname", "'host_0','host_2'")
			res := p.query(ctx, t, ds, nil, dq("A", target))
			r := res.Responses["A"]
			if r.Error != nil || len(r.Frames) == 0 || r.Frames[0].Rows() == 0 {
				t.Fatalf("panel %q: %v", panel.Title, r.Error)
			}
		}
	}

	// A fresh server answers PromQL over a missing Prometheus table with
	// HTTP 422 "unknown table" (Prometheus would answer empty): create it.
	loadDevopsInto(ctx, t, srv, "AKID", "secret", "prometheus", "metrics")
	metrics := readDashboard(t, "tidaldb-metrics.json")
	for _, panel := range metrics.Panels {
		if panel.Datasource.UID != "tidaldb-prom" || panel.Datasource.Type != "prometheus" {
			t.Fatalf("panel %q uses data source %+v", panel.Title, panel.Datasource)
		}
		for _, target := range panel.Targets {
			expr := strings.ReplaceAll(target["expr"].(string), "$__rate_interval", "1m")
			resp, err := http.PostForm(srv.url+"/api/v1/query", url.Values{"query": {expr}})
			if err != nil {
				t.Fatal(err)
			}
			var pr promResponse
			_ = json.NewDecoder(resp.Body).Decode(&pr)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || pr.Status != "success" {
				t.Fatalf("panel %q: %s: HTTP %d %s %s", panel.Title, expr, resp.StatusCode, pr.ErrorType, pr.Error)
			}
		}
	}
}
