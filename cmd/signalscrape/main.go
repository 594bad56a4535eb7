// Command signalscrape fetches SBS96 mutation profiles of cancer donors from
// the SIGNAL site, politely, across a cluster of nodes; it also serves a
// stand-in of the site and talks to a running node as a client.
package main

import (
	"fmt"
	"os"
)

// command is one subcommand: it takes the arguments after its name and
// returns the process exit code.
type command struct {
	summary string
	run     func(args []string) int
}

var commands = map[string]command{
	"serve":       {"start a node", runServe},
	"migrate":     {"apply the database migrations", runMigrate},
	"mock-signal": {"serve a stand-in of the SIGNAL site from profile files", runMockSignal},
	"upload":      {"upload a CSV of donors and print the work id", runUpload},
	"status":      {"show a work's status", runStatus},
	"download":    {"download a work's result", runDownload},
	"cancel":      {"cancel a work", runCancel},
	"limits":      {"show or change the politeness limits", runLimits},
	"works":       {"list recent works", runWorks},
	"cluster":     {"list the cluster's members", runCluster},
}

var order = []string{"serve", "migrate", "mock-signal", "upload", "status", "download", "cancel", "limits", "works", "cluster"}

func main() {
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
	}
	cmd, ok := commands[os.Args[1]]
	if !ok {
		if os.Args[1] != "help" && os.Args[1] != "-h" && os.Args[1] != "--help" {
			fmt.Fprintf(os.Stderr, "signalscrape: unknown command %q\n", os.Args[1])
		}
		usage()
		os.Exit(2)
	}
	os.Exit(cmd.run(os.Args[2:]))
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: signalscrape <command> [flags]\n\ncommands:")
	for _, name := range order {
		fmt.Fprintf(os.Stderr, "  %-12s %s\n", name, commands[name].summary)
	}
}
