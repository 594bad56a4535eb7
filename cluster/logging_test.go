package cluster

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

// TestFrameworkLogsFiltered checks that the framework's logger, as the node
// builds it, drops records under the framework level while the node's own
// logger keeps them.
func TestFrameworkLogsFiltered(t *testing.T) {
	var buf bytes.Buffer
	node := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	framework := slog.New(levelFilter{Handler: node.Handler(), min: slog.LevelWarn}).With("component", "protoactor")

	framework.Info("framework chatter")
	framework.Warn("framework trouble")
	node.Info("node event")

	out := buf.String()
	if strings.Contains(out, "framework chatter") {
		t.Errorf("an info record of the framework got through:\n%s", out)
	}
	if !strings.Contains(out, "framework trouble") || !strings.Contains(out, "component=protoactor") {
		t.Errorf("the framework's warning is missing or unlabelled:\n%s", out)
	}
	if !strings.Contains(out, "node event") {
		t.Errorf("the node's own info record was dropped:\n%s", out)
	}
}

// TestMemberlistLevels checks that memberlist's text prefixes become levels.
func TestMemberlistLevels(t *testing.T) {
	var buf bytes.Buffer
	l := newStdLogger(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn})))
	l.Print("[INFO] memberlist: a heartbeat")
	l.Print("[ERR] memberlist: a failed probe")

	out := buf.String()
	if strings.Contains(out, "heartbeat") || !strings.Contains(out, "level=ERROR msg=\"memberlist: a failed probe\"") {
		t.Errorf("levels not mapped:\n%s", out)
	}
}
