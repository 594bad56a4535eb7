package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/signalscrape/signalscrape/http/client"
)

// cliDefaultServer is the API a client command talks to without --server or
// SIGNALSCRAPE_SERVER.
const cliDefaultServer = "http://127.0.0.1:8080"

// cliEnv is what a client command uses besides its arguments; tests build
// their own.
type cliEnv struct {
	stdout, stderr io.Writer
	getenv         func(string) string
	// terminal says stderr is a terminal, where progress is one redrawn line.
	terminal bool
	// poll is the gap between status requests of upload --wait.
	poll time.Duration
	// lineEvery is the least gap between two progress lines off a terminal.
	lineEvery time.Duration
	now       func() time.Time
}

// cliCommand is a client command run with its arguments.
type cliCommand func(ctx context.Context, args []string, env cliEnv) int

func runUpload(args []string) int   { return cliRun(cliUpload, args) }
func runStatus(args []string) int   { return cliRun(cliStatus, args) }
func runDownload(args []string) int { return cliRun(cliDownload, args) }
func runCancel(args []string) int   { return cliRun(cliCancel, args) }
func runLimits(args []string) int   { return cliRun(cliLimits, args) }
func runWorks(args []string) int    { return cliRun(cliWorks, args) }
func runCluster(args []string) int  { return cliRun(cliCluster, args) }

// cliRun runs cmd against the process's streams and environment, stopping it
// on an interrupt.
func cliRun(cmd cliCommand, args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return cmd(ctx, args, cliEnv{
		stdout:    os.Stdout,
		stderr:    os.Stderr,
		getenv:    os.Getenv,
		terminal:  cliIsTerminal(os.Stderr) && os.Getenv("TERM") != "dumb",
		poll:      time.Second,
		lineEvery: 5 * time.Second,
		now:       time.Now,
	})
}

// cliIsTerminal reports whether f is a character device, such as a terminal.
func cliIsTerminal(f *os.File) bool {
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}

// cliFlagSet returns a flag set for the command named by the first word of
// synopsis, printing errors and usage on env.stderr.
func cliFlagSet(synopsis string, env cliEnv) *flag.FlagSet {
	name, _, _ := strings.Cut(synopsis, " ")
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	fs.Usage = func() {
		fmt.Fprintf(env.stderr, "usage: signalscrape %s\n\nflags:\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// cliParse parses args, where flags may follow positional arguments, and
// wants exactly want positional arguments. When ok is false the command
// must return code: 0 after -h, 2 after a usage error.
func cliParse(fs *flag.FlagSet, args []string, want int) (pos []string, code int, ok bool) {
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, 0, false
			}
			return nil, 2, false
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			pos = append(pos, rest...)
			break
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
	if len(pos) != want {
		return nil, cliUsageError(fs, "want %d argument(s), got %d", want, len(pos)), false
	}
	return pos, 0, true
}

// cliUsageError prints what is wrong and the command's usage, and returns
// the usage exit code.
func cliUsageError(fs *flag.FlagSet, format string, args ...any) int {
	fmt.Fprintf(fs.Output(), "signalscrape %s: %s\n", fs.Name(), fmt.Sprintf(format, args...))
	fs.Usage()
	return 2
}

// cliConn holds the flags that say how to reach the API.
type cliConn struct {
	server string
	token  string
}

// cliConnFlags adds --server, and --admin-token when admin is set, to fs.
func cliConnFlags(fs *flag.FlagSet, env cliEnv, admin bool) *cliConn {
	conn := &cliConn{}
	server := env.getenv("SIGNALSCRAPE_SERVER")
	if server == "" {
		server = cliDefaultServer
	}
	fs.StringVar(&conn.server, "server", server, "the node's API `URL` (env SIGNALSCRAPE_SERVER)")
	if admin {
		fs.StringVar(&conn.token, "admin-token", env.getenv("SIGNALSCRAPE_ADMIN_TOKEN"),
			"bearer `token` for /admin/* (env SIGNALSCRAPE_ADMIN_TOKEN)")
	}
	return conn
}

// client builds the API client, or reports a bad --server as a usage error.
func (c *cliConn) client(fs *flag.FlagSet) (*client.Client, int, bool) {
	cl, err := client.New(c.server, client.WithAdminToken(c.token))
	if err != nil {
		return nil, cliUsageError(fs, "bad --server: %v", err), false
	}
	return cl, 0, true
}

// cliFail prints why a command failed and returns exit code 1. id names the
// work the command was about, if any.
func cliFail(env cliEnv, fs *flag.FlagSet, conn *cliConn, id string, err error) int {
	fmt.Fprintf(env.stderr, "signalscrape %s: %s\n", fs.Name(), cliDescribe(err, conn.server, id))
	return 1
}

// cliDescribe words err for a person.
func cliDescribe(err error, server, id string) string {
	var apiErr *client.APIError
	switch {
	case errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusNotFound && id != "":
		return "no work " + id
	case errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusConflict && id != "":
		return fmt.Sprintf("work %s: %s", id, apiErr.Message)
	case errors.As(err, &apiErr):
		return fmt.Sprintf("%s (HTTP %d)", apiErr.Message, apiErr.StatusCode)
	case errors.Is(err, context.Canceled) && id != "":
		return fmt.Sprintf("interrupted; work %s goes on (see signalscrape status %s)", id, id)
	case errors.Is(err, context.Canceled):
		return "interrupted"
	default:
		return fmt.Sprintf("%v (is a node running at %s?)", err, server)
	}
}

// cliCheckFormat reports a format name the API does not offer as a usage
// error.
func cliCheckFormat(fs *flag.FlagSet, format string) (int, bool) {
	if slices.Contains(client.Formats(), format) {
		return 0, true
	}
	return cliUsageError(fs, "unknown format %q; want one of %s", format, formatNames()), false
}

// formatNames lists the result formats for messages and help.
func formatNames() string {
	return strings.Join(client.Formats(), ", ")
}

// cliWriteFile streams write into a temporary file beside path, then renames
// it to path, so that path never holds a partial result.
func cliWriteFile(path string, write func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.part")
	if err != nil {
		return fmt.Errorf("creating temporary file: %w", err)
	}
	renamed := false
	defer func() {
		if !renamed {
			_ = os.Remove(tmp.Name())
		}
	}()

	if err := write(tmp); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("setting mode of %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("renaming into %s: %w", path, err)
	}
	renamed = true
	return nil
}
