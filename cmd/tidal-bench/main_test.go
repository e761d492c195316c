package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestParseRun(t *testing.T) {
	var stderr bytes.Buffer
	o, err := parseRun([]string{"--preset", "small", "--peer", "victoriametrics, prometheus", "--driver", "promrw1",
		"--clients", "4", "--batch", "500", "--seed", "9", "--use-case", "iot", "--out", "/tmp/x", "--target", "http://127.0.0.1:7490"}, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	if o.Preset.Name != "small" || strings.Join(o.Peers, ",") != "victoriametrics,prometheus" || o.Driver != "promrw1" ||
		o.Clients != 4 || o.Batch != 500 || o.Seed != 9 || o.UseCase != "iot" || o.OutDir != "/tmp/x" || o.Target != "http://127.0.0.1:7490" {
		t.Errorf("options %+v", o)
	}
	if o, err := parseRun([]string{"--tidal-sync", "batch, interval"}, &stderr); err != nil || strings.Join(o.TidalSync, ",") != "batch,interval" {
		t.Errorf("--tidal-sync: %v, %v", o.TidalSync, err)
	}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--tidal-sync", "batch", "--target", "http://y"}, "not --target"},
		{[]string{"--preset", "tiny"}, `unknown preset "tiny"`},
		{[]string{"--peer", "mysql"}, `unknown peer "mysql"`},
		{[]string{"--driver", "mqtt"}, `unknown driver "mqtt"`},
		{[]string{"--use-case", "trucks"}, `unknown use case "trucks"`},
		{[]string{"--tidal-sync", "often"}, `unknown wal sync policy "often"`},
		{[]string{"--tidal-bin", "x", "--target", "http://y"}, "exclusive"},
		{[]string{"extra"}, `unexpected argument "extra"`},
	}
	for _, tc := range tests {
		if _, err := parseRun(tc.args, &stderr); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("parseRun(%q) err = %v, want %q", tc.args, err, tc.want)
		}
	}
}

func TestRunUsage(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"bogus"}, &out, &errb); code != 2 || !strings.Contains(errb.String(), `unknown command "bogus"`) {
		t.Errorf("run(bogus) = %d, stderr %q", code, errb.String())
	}
	out.Reset()
	if code := run([]string{"help"}, &out, &errb); code != 0 || !strings.Contains(out.String(), "tidal-bench run --preset") {
		t.Errorf("run(help) = %d, stdout %q", code, out.String())
	}
}
