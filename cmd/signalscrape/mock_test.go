package main

import (
	"io"
	"slices"
	"testing"
)

// TestMockMissingFlag checks that --missing reads comma-separated donor
// ids, may be repeated, and refuses what is no donor id.
func TestMockMissingFlag(t *testing.T) {
	dir := t.TempDir()
	cfg, err := parseMockFlags([]string{"--profiles", dir, "--missing", "DO1, DO2,", "--missing", "DO3"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"DO1", "DO2", "DO3"}; !slices.Equal(cfg.Missing, want) {
		t.Errorf("--missing gave %q, want %q", cfg.Missing, want)
	}
	if _, err := parseMockFlags([]string{"--profiles", dir, "--missing", "../DO1"}, io.Discard); err == nil {
		t.Error("--missing ../DO1 accepted")
	}
}
