package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/signalscrape/signalscrape/http/client"
)

// maxPollFailures is how many status requests in a row upload --wait lets
// fail for a passing reason (connection lost, 5xx) before it gives up.
const maxPollFailures = 5

// maxRejectedShown bounds the rejected rows upload lists on stderr.
const maxRejectedShown = 10

// uploadFlags are the flags of the upload command.
type uploadFlags struct {
	conn   *cliConn
	wait   bool
	out    string
	format string
	opts   client.UploadOptions
}

func newUploadFlags(fs *flag.FlagSet, env cliEnv) *uploadFlags {
	f := &uploadFlags{conn: cliConnFlags(fs, env, false)}
	fs.BoolVar(&f.wait, "wait", false, "wait until the work finishes, showing its progress on stderr")
	fs.StringVar(&f.out, "out", "", "when the work finishes, write its result to `FILE` (implies --wait)")
	fs.StringVar(&f.format, "format", client.FormatCSV,
		"result format for --out: "+formatNames())
	fs.IntVar(&f.opts.MaxTasks, "max-tasks", 0, "keep only the first `N` distinct ids (0: all)")
	fs.StringVar(&f.opts.IDColumn, "id-column", "", "the `column` holding the donor ids")
	fs.StringVar(&f.opts.LabelColumn, "label-column", "", "the `column` holding the labels of the result")
	return f
}

// cliUpload uploads a CSV, prints the work id on the first line, and with
// --wait follows the work to its end.
func cliUpload(ctx context.Context, args []string, env cliEnv) int {
	fs := cliFlagSet("upload FILE [flags]", env)
	f := newUploadFlags(fs, env)
	pos, code, ok := cliParse(fs, args, 1)
	if !ok {
		return code
	}
	if code, ok := f.check(fs, pos[0]); !ok {
		return code
	}
	c, code, ok := f.conn.client(fs)
	if !ok {
		return code
	}

	res, err := c.UploadFile(ctx, pos[0], f.opts)
	if err != nil {
		return cliFail(env, fs, f.conn, "", err)
	}
	printUploaded(env, res)
	if !f.wait && f.out == "" {
		return 0
	}

	st, err := waitForWork(ctx, c, res.IDWork, env)
	if err != nil {
		return cliFail(env, fs, f.conn, res.IDWork, err)
	}
	if f.out != "" {
		if err := saveResult(ctx, c, st, f, env); err != nil {
			return cliFail(env, fs, f.conn, res.IDWork, err)
		}
	}
	fmt.Fprintln(env.stdout, statusLine(st))
	return exitForStatus(env, fs, st)
}

// check validates what the flags cannot: the file, the format and N.
func (f *uploadFlags) check(fs *flag.FlagSet, path string) (int, bool) {
	info, err := os.Stat(path)
	var pathErr *os.PathError
	switch {
	case errors.As(err, &pathErr):
		return cliUsageError(fs, "cannot read %s: %v", path, pathErr.Err), false
	case err != nil:
		return cliUsageError(fs, "cannot read %s: %v", path, err), false
	case info.IsDir():
		return cliUsageError(fs, "%s is a directory", path), false
	case f.opts.MaxTasks < 0:
		return cliUsageError(fs, "--max-tasks must not be negative"), false
	}
	return cliCheckFormat(fs, f.format)
}

// printUploaded prints the work id, then a summary, on stdout, and the
// rejected rows on stderr.
func printUploaded(env cliEnv, res *client.UploadResult) {
	fmt.Fprintln(env.stdout, res.IDWork)
	fmt.Fprintf(env.stdout, "%d distinct ids, %d rows, %d duplicates, %d rejected\n",
		res.TasksEnqueued, res.Rows, res.Duplicates, len(res.Rejected))
	for i, r := range res.Rejected {
		if i == maxRejectedShown {
			fmt.Fprintf(env.stderr, "... and %d more rejected rows\n", len(res.Rejected)-i)
			break
		}
		fmt.Fprintf(env.stderr, "row %d rejected: %s\n", r.Row, r.Error)
	}
}

// waitForWork polls the work's status until it finishes, showing progress.
func waitForWork(ctx context.Context, c *client.Client, id string, env cliEnv) (*client.Status, error) {
	prog := newProgress(env)
	defer prog.stop()
	ticker := time.NewTicker(env.poll)
	defer ticker.Stop()

	failures := 0
	for {
		st, err := c.Status(ctx, id)
		switch {
		case err == nil:
			failures = 0
			prog.update(st)
			if st.Finished() {
				return st, nil
			}
		case ctx.Err() != nil || !retryablePoll(err) || failures+1 >= maxPollFailures:
			return nil, fmt.Errorf("waiting for work %s: %w", id, err)
		default:
			failures++
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for work %s: %w", id, ctx.Err())
		case <-ticker.C:
		}
	}
}

// retryablePoll reports whether a failed status request is worth repeating.
func retryablePoll(err error) bool {
	var apiErr *client.APIError
	return !errors.As(err, &apiErr) || apiErr.StatusCode >= http.StatusInternalServerError
}

// saveResult downloads a finished work's result into the --out file.
func saveResult(ctx context.Context, c *client.Client, st *client.Status, f *uploadFlags, env cliEnv) error {
	if st.DownloadURL == "" && st.Status != client.StatusCompleted && st.Status != client.StatusCompletedWithErrors {
		fmt.Fprintf(env.stderr, "work %s has no result; %s not written\n", st.IDWork, f.out)
		return nil
	}
	return cliWriteFile(f.out, func(w io.Writer) error {
		return c.Download(ctx, st.IDWork, f.format, w)
	})
}

// statusLine sums up a status in one line.
func statusLine(st *client.Status) string {
	return fmt.Sprintf("%s %s: %d/%d completed, %d failed, %d cancelled, %d from cache",
		st.IDWork, st.Status, st.Counts.Completed, st.Total, st.Counts.Failed, st.Counts.Cancelled, st.FromCache)
}

// exitForStatus returns 0 for a completed work; otherwise it says how the
// work ended on stderr and returns 1.
func exitForStatus(env cliEnv, fs *flag.FlagSet, st *client.Status) int {
	if st.Status == client.StatusCompleted {
		return 0
	}
	fmt.Fprintf(env.stderr, "signalscrape %s: work %s ended %s with %d errors\n",
		fs.Name(), st.IDWork, st.Status, errorCount(st))
	return 1
}

// errorCount counts a work's failed tasks.
func errorCount(st *client.Status) int64 {
	return max(st.Counts.Failed, int64(len(st.Errors)))
}
