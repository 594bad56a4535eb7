package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/signalscrape/signalscrape/http/client"
)

// cliStatus prints a work's status, for a person or as the API's JSON.
func cliStatus(ctx context.Context, args []string, env cliEnv) int {
	fs := cliFlagSet("status ID [--json]", env)
	conn := cliConnFlags(fs, env, false)
	asJSON := fs.Bool("json", false, "print the status as the API's JSON")
	pos, code, ok := cliParse(fs, args, 1)
	if !ok {
		return code
	}
	c, code, ok := conn.client(fs)
	if !ok {
		return code
	}

	id := pos[0]
	if *asJSON {
		raw, err := c.StatusRaw(ctx, id)
		if err != nil {
			return cliFail(env, fs, conn, id, err)
		}
		fmt.Fprintln(env.stdout, string(raw))
		return 0
	}
	st, err := c.Status(ctx, id)
	if err != nil {
		return cliFail(env, fs, conn, id, err)
	}
	printStatus(env.stdout, c.BaseURL(), st)
	return 0
}

// printStatus writes a status for a person; base is the server's URL.
func printStatus(w io.Writer, base string, st *client.Status) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	c := st.Counts
	fmt.Fprintf(tw, "work\t%s\n", st.IDWork)
	fmt.Fprintf(tw, "status\t%s (%.1f%%)\n", st.Status, st.Percent)
	fmt.Fprintf(tw, "tasks\t%d: %d completed, %d failed, %d cancelled, %d running, %d pending\n",
		st.Total, c.Completed, c.Failed, c.Cancelled, c.Running, c.Pending)
	fmt.Fprintf(tw, "upstream\t%d from cache, %d requests\n", st.FromCache, st.UpstreamRequests)
	if !st.Finished() {
		fmt.Fprintf(tw, "eta\t%s\n", etaText(st.ETASeconds))
	}
	fmt.Fprintf(tw, "created\t%s\n", cliTime(st.CreatedAt))
	fmt.Fprintf(tw, "updated\t%s\n", cliTime(st.UpdatedAt))
	if st.Member != "" {
		fmt.Fprintf(tw, "member\t%s\n", st.Member)
	}
	if st.DownloadURL != "" {
		fmt.Fprintf(tw, "result\t%s\n", cliAbsURL(base, st.DownloadURL))
	}
	_ = tw.Flush()
	if len(st.Errors) > 0 {
		fmt.Fprintln(w, "errors:")
	}
	for _, e := range st.Errors {
		name := e.ID
		if e.Label != "" && e.Label != e.ID {
			name += " (" + e.Label + ")"
		}
		fmt.Fprintf(w, "  %s after %d attempts: %s\n", name, e.Attempts, e.Error)
	}
}

// cliAbsURL resolves a server-relative URL against base.
func cliAbsURL(base, u string) string {
	if strings.HasPrefix(u, "/") {
		return base + u
	}
	return u
}

// cliTime words a time in local time, "-" when unset.
func cliTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format("2006-01-02 15:04:05")
}

// cliDownload writes a work's result to stdout or to a file.
func cliDownload(ctx context.Context, args []string, env cliEnv) int {
	fs := cliFlagSet("download ID [--format F] [--out FILE]", env)
	conn := cliConnFlags(fs, env, false)
	format := fs.String("format", client.FormatCSV, "result format: "+formatNames())
	out := fs.String("out", "", "write the result to `FILE` instead of stdout")
	pos, code, ok := cliParse(fs, args, 1)
	if !ok {
		return code
	}
	if code, ok := cliCheckFormat(fs, *format); !ok {
		return code
	}
	if *format == client.FormatPlots && *out == "" {
		return cliUsageError(fs, "--format plots is a zip: give --out FILE")
	}
	c, code, ok := conn.client(fs)
	if !ok {
		return code
	}

	id := pos[0]
	var err error
	if *out == "" {
		err = c.Download(ctx, id, *format, env.stdout)
	} else {
		err = cliWriteFile(*out, func(w io.Writer) error { return c.Download(ctx, id, *format, w) })
	}
	if err != nil {
		return cliFail(env, fs, conn, id, err)
	}
	return 0
}

// cliCancel cancels a work and prints its status.
func cliCancel(ctx context.Context, args []string, env cliEnv) int {
	fs := cliFlagSet("cancel ID", env)
	conn := cliConnFlags(fs, env, false)
	pos, code, ok := cliParse(fs, args, 1)
	if !ok {
		return code
	}
	c, code, ok := conn.client(fs)
	if !ok {
		return code
	}
	st, err := c.Cancel(ctx, pos[0])
	if err != nil {
		return cliFail(env, fs, conn, pos[0], err)
	}
	fmt.Fprintln(env.stdout, statusLine(st))
	return 0
}

// cliWorks lists recent works.
func cliWorks(ctx context.Context, args []string, env cliEnv) int {
	fs := cliFlagSet("works [--limit N] [--offset N]", env)
	conn := cliConnFlags(fs, env, false)
	var opts client.WorksOptions
	fs.IntVar(&opts.Limit, "limit", 20, "list at most `N` works")
	fs.IntVar(&opts.Offset, "offset", 0, "skip the `N` newest works")
	if _, code, ok := cliParse(fs, args, 0); !ok {
		return code
	}
	if opts.Limit < 1 || opts.Offset < 0 {
		return cliUsageError(fs, "--limit must be positive and --offset not negative")
	}
	c, code, ok := conn.client(fs)
	if !ok {
		return code
	}
	list, err := c.Works(ctx, opts)
	if err != nil {
		return cliFail(env, fs, conn, "", err)
	}
	printWorks(env.stdout, list.Works)
	return 0
}

// printWorks writes works as a table.
func printWorks(w io.Writer, works []client.WorkSummary) {
	if len(works) == 0 {
		fmt.Fprintln(w, "no works")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "IDWORK\tSTATUS\tTOTAL\tCREATED\tFILE")
	for _, wk := range works {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", wk.IDWork, wk.Status, wk.Total, cliTime(wk.CreatedAt), wk.Filename)
	}
	_ = tw.Flush()
}
