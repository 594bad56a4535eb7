package main

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestServeJoinNeedsDatabaseURL runs the built binary: `serve` given
// --join, or SIGNALSCRAPE_JOIN, but no database must refuse to start and
// say that --database-url is missing.
func TestServeJoinNeedsDatabaseURL(t *testing.T) {
	addrs := []string{
		"--http-addr", freeAddr(t), "--gossip-addr", freeAddr(t), "--actor-addr", freeAddr(t),
		"--data-dir", t.TempDir(),
	}
	cases := []struct {
		name string
		env  []string
		args []string
	}{
		{"flag", nil, append([]string{"serve", "--join", "127.0.0.1:1"}, addrs...)},
		{"environment", []string{"SIGNALSCRAPE_JOIN=127.0.0.1:1"}, append([]string{"serve"}, addrs...)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, out := runOnce(t, tc.env, tc.args...)
			if code == 0 || !strings.Contains(out, "--database-url") {
				t.Errorf("signalscrape %s exited %d, want non-zero with a message naming --database-url; output:\n%s",
					strings.Join(tc.args, " "), code, out)
			}
		})
	}
}

// runOnceTimeout bounds a one-shot run of the binary; a command that should
// exit at once but serves instead is killed then.
const runOnceTimeout = 30 * time.Second

// runOnce runs the built binary with args until it exits and returns its
// exit code and output. Its environment is the test's without any
// SIGNALSCRAPE_ variable, plus env ("NAME=value").
func runOnce(t *testing.T, env []string, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), runOnceTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = append(withoutOwnEnv(os.Environ()), env...)
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("signalscrape %s did not exit within %s; output:\n%s", strings.Join(args, " "), runOnceTimeout, out)
	}
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0, string(out)
	case errors.As(err, &exit):
		return exit.ExitCode(), string(out)
	}
	t.Fatalf("running signalscrape %s: %v", strings.Join(args, " "), err)
	return 0, ""
}

// withoutOwnEnv drops the SIGNALSCRAPE_ variables from environ, so that the
// test's environment cannot change what a command is given.
func withoutOwnEnv(environ []string) []string {
	var out []string
	for _, kv := range environ {
		if !strings.HasPrefix(kv, envPrefix) {
			out = append(out, kv)
		}
	}
	return out
}
