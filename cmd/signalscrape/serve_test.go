package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"strings"
	"testing"
)

// TestLogDefaults checks what a node logs with no logging flags: text at
// info, and the actor framework only from warn up.
func TestLogDefaults(t *testing.T) {
	var f serveFlags
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	f.register(fs)
	if err := fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
	if f.logFormat != "text" || f.logLevel != "info" || f.frameworkLevel != "warn" {
		t.Fatalf("defaults: format %q, level %q, framework %q", f.logFormat, f.logLevel, f.frameworkLevel)
	}
}

func TestLogFormats(t *testing.T) {
	var buf bytes.Buffer
	logger, err := newLogger(&buf, "json", "info")
	if err != nil {
		t.Fatal(err)
	}
	logger.Debug("hidden")
	logger.Info("work accepted", "work_id", "w1")
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil || rec["work_id"] != "w1" {
		t.Fatalf("not one JSON record: %q (%v)", buf.String(), err)
	}

	if _, err := newLogger(&buf, "xml", "info"); err == nil || !strings.Contains(err.Error(), "text or json") {
		t.Fatalf("--log-format xml: %v", err)
	}
}

// TestUserAgentNamesServiceAndContact checks the User-Agent both sources
// send.
func TestUserAgentNamesServiceAndContact(t *testing.T) {
	ua := userAgent("ops@example.org")
	for _, want := range []string{"signalscrape/" + version, "ops@example.org"} {
		if !strings.Contains(ua, want) {
			t.Errorf("User-Agent %q lacks %q", ua, want)
		}
	}
	if strings.Contains(userAgent(""), ";") {
		t.Errorf("User-Agent without a contact: %q", userAgent(""))
	}
	f := serveFlags{minInterval: 1, maxInterval: 1, maxConcurrency: 1, contact: "me\r\nX-Evil: 1"}
	if err := f.check(); err == nil {
		t.Error("a contact with a line break was accepted")
	}
}
