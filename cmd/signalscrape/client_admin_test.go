package main

import (
	"reflect"
	"strings"
	"testing"

	"github.com/signalscrape/signalscrape/http/client"
)

func TestLimitsGet(t *testing.T) {
	api := newFakeAPI(t)
	res := runCLI(t, cliLimits, api.srv.URL, map[string]string{"SIGNALSCRAPE_ADMIN_TOKEN": "tok"}, "get")
	if res.code != 0 || res.stdout != "min interval 1s, max interval 3s, max concurrency 2\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q", res.code, res.stdout, res.stderr)
	}
	if auth, _, _ := api.seen(); !reflect.DeepEqual(auth, []string{"Bearer tok"}) {
		t.Errorf("Authorization = %q", auth)
	}
}

func TestLimitsSet(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want client.Limits
	}{
		{"all", []string{"--min-interval", "250ms", "--max-interval", "2s", "--max-concurrency", "4"},
			client.Limits{MinIntervalMS: 250, MaxIntervalMS: 2000, MaxConcurrency: 4}},
		{"some", []string{"--max-concurrency", "1"},
			client.Limits{MinIntervalMS: 1000, MaxIntervalMS: 3000, MaxConcurrency: 1}},
		{"zero interval", []string{"--min-interval", "0s"},
			client.Limits{MinIntervalMS: 0, MaxIntervalMS: 3000, MaxConcurrency: 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := newFakeAPI(t)
			args := append([]string{"set", "--admin-token", "flagtok"}, tt.args...)
			res := runCLI(t, cliLimits, api.srv.URL, map[string]string{"SIGNALSCRAPE_ADMIN_TOKEN": "envtok"}, args...)
			if res.code != 0 {
				t.Fatalf("exit %d, stderr %q", res.code, res.stderr)
			}
			auth, _, puts := api.seen()
			if !reflect.DeepEqual(puts, []client.Limits{tt.want}) {
				t.Errorf("PUT %+v, want %+v", puts, tt.want)
			}
			for _, a := range auth {
				if a != "Bearer flagtok" {
					t.Errorf("Authorization = %q, want the flag's token", a)
				}
			}
			if !strings.HasPrefix(res.stdout, "min interval ") {
				t.Errorf("stdout = %q", res.stdout)
			}
		})
	}
}

func TestLimitsUsageErrors(t *testing.T) {
	api := newFakeAPI(t)
	for name, args := range map[string][]string{
		"no command":       {},
		"unknown command":  {"show"},
		"set nothing":      {"set"},
		"get with a value": {"get", "--max-concurrency", "3"},
		"negative":         {"set", "--min-interval", "-1s"},
		"sub-millisecond":  {"set", "--min-interval", "1500us"},
		"not a duration":   {"set", "--max-interval", "3"},
		"no concurrency":   {"set", "--max-concurrency", "0"},
	} {
		t.Run(name, func(t *testing.T) {
			res := runCLI(t, cliLimits, api.srv.URL, nil, args...)
			if res.code != 2 || !strings.Contains(res.stderr, "usage: signalscrape limits") {
				t.Errorf("exit %d, stderr %q", res.code, res.stderr)
			}
		})
	}
	if _, _, puts := api.seen(); len(puts) != 0 {
		t.Errorf("%d PUTs reached the server", len(puts))
	}
}

func TestLimitsSetRejected(t *testing.T) {
	api := newFakeAPI(t)
	res := runCLI(t, cliLimits, api.srv.URL, nil, "set", "--min-interval", "5s")
	if res.code != 1 || !strings.Contains(res.stderr, "min interval above max interval (HTTP 400)") {
		t.Errorf("exit %d, stderr %q", res.code, res.stderr)
	}
}

func TestClusterCommand(t *testing.T) {
	api := newFakeAPI(t)
	res := runCLI(t, cliCluster, api.srv.URL, nil, "--admin-token", "tok")
	if res.code != 0 {
		t.Fatalf("exit %d, stderr %q", res.code, res.stderr)
	}
	lines := strings.Split(strings.TrimSuffix(res.stdout, "\n"), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[1], "node-a  alive") || !strings.HasPrefix(lines[2], "node-b  suspect") {
		t.Fatalf("stdout = %q", res.stdout)
	}
	if lines[3] != "token bucket on node-a: 1 in flight, 2 queued, 42 granted in all" {
		t.Errorf("bucket line = %q", lines[3])
	}
	if auth, _, _ := api.seen(); !reflect.DeepEqual(auth, []string{"Bearer tok"}) {
		t.Errorf("Authorization = %q", auth)
	}
}
