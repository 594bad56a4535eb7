package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/signalscrape/signalscrape/http/client"
)

// limitsFlags are the flags of the limits command.
type limitsFlags struct {
	conn           *cliConn
	minInterval    time.Duration
	maxInterval    time.Duration
	maxConcurrency int64
}

// limitsSetFlags names the flags only limits set takes.
var limitsSetFlags = []string{"min-interval", "max-interval", "max-concurrency"}

// cliLimits shows or changes the cluster's politeness limits.
func cliLimits(ctx context.Context, args []string, env cliEnv) int {
	fs := cliFlagSet("limits get|set [flags]", env)
	f := &limitsFlags{conn: cliConnFlags(fs, env, true)}
	fs.DurationVar(&f.minInterval, "min-interval", 0, "set: least wait between upstream requests, e.g. 1s")
	fs.DurationVar(&f.maxInterval, "max-interval", 0, "set: most wait between upstream requests, e.g. 3s")
	fs.Int64Var(&f.maxConcurrency, "max-concurrency", 0, "set: most upstream requests in flight")
	pos, code, ok := cliParse(fs, args, 1)
	if !ok {
		return code
	}
	given := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { given[fl.Name] = true })

	switch pos[0] {
	case "get":
		for _, name := range limitsSetFlags {
			if given[name] {
				return cliUsageError(fs, "--%s is for limits set", name)
			}
		}
		return limitsGet(ctx, fs, f, env)
	case "set":
		return limitsSet(ctx, fs, f, given, env)
	default:
		return cliUsageError(fs, "unknown limits command %q; want get or set", pos[0])
	}
}

func limitsGet(ctx context.Context, fs *flag.FlagSet, f *limitsFlags, env cliEnv) int {
	c, code, ok := f.conn.client(fs)
	if !ok {
		return code
	}
	l, err := c.Limits(ctx)
	if err != nil {
		return cliFail(env, fs, f.conn, "", err)
	}
	fmt.Fprintln(env.stdout, limitsLine(l))
	return 0
}

// limitsSet changes the given limits and keeps the others, read first.
func limitsSet(ctx context.Context, fs *flag.FlagSet, f *limitsFlags, given map[string]bool, env cliEnv) int {
	if code, ok := f.check(fs, given); !ok {
		return code
	}
	c, code, ok := f.conn.client(fs)
	if !ok {
		return code
	}

	var l client.Limits
	if !given["min-interval"] || !given["max-interval"] || !given["max-concurrency"] {
		cur, err := c.Limits(ctx)
		if err != nil {
			return cliFail(env, fs, f.conn, "", err)
		}
		l = *cur
	}
	if given["min-interval"] {
		l.MinIntervalMS = f.minInterval.Milliseconds()
	}
	if given["max-interval"] {
		l.MaxIntervalMS = f.maxInterval.Milliseconds()
	}
	if given["max-concurrency"] {
		l.MaxConcurrency = f.maxConcurrency
	}

	now, err := c.SetLimits(ctx, l)
	if err != nil {
		return cliFail(env, fs, f.conn, "", err)
	}
	fmt.Fprintln(env.stdout, limitsLine(now))
	return 0
}

// check rejects a set without values and values the API cannot hold.
func (f *limitsFlags) check(fs *flag.FlagSet, given map[string]bool) (int, bool) {
	if !given["min-interval"] && !given["max-interval"] && !given["max-concurrency"] {
		return cliUsageError(fs, "limits set needs at least one of --min-interval, --max-interval, --max-concurrency"), false
	}
	for _, d := range []time.Duration{f.minInterval, f.maxInterval} {
		if d < 0 || d%time.Millisecond != 0 {
			return cliUsageError(fs, "interval %s is not a whole, non-negative number of milliseconds", d), false
		}
	}
	if given["max-concurrency"] && f.maxConcurrency < 1 {
		return cliUsageError(fs, "--max-concurrency must be at least 1"), false
	}
	return 0, true
}

// limitsLine words limits in one line.
func limitsLine(l *client.Limits) string {
	return fmt.Sprintf("min interval %s, max interval %s, max concurrency %d",
		time.Duration(l.MinIntervalMS)*time.Millisecond, time.Duration(l.MaxIntervalMS)*time.Millisecond,
		l.MaxConcurrency)
}

// cliCluster lists the cluster's members and its token bucket.
func cliCluster(ctx context.Context, args []string, env cliEnv) int {
	fs := cliFlagSet("cluster", env)
	conn := cliConnFlags(fs, env, true)
	if _, code, ok := cliParse(fs, args, 0); !ok {
		return code
	}
	c, code, ok := conn.client(fs)
	if !ok {
		return code
	}
	info, err := c.Cluster(ctx)
	if err != nil {
		return cliFail(env, fs, conn, "", err)
	}
	printCluster(env.stdout, info)
	return 0
}

// printCluster writes the members as a table, then the token bucket line.
func printCluster(w io.Writer, info *client.ClusterInfo) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSTATUS\tHTTP\tGOSSIP\tACTOR\tTASKS")
	for _, m := range info.Members {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\n", m.Name, m.Status, m.HTTPAddr, m.GossipAddr, m.ActorAddr, m.TasksRun)
	}
	_ = tw.Flush()
	b := info.TokenBucket
	fmt.Fprintf(w, "token bucket on %s: %d in flight, %d queued, %d granted in all\n",
		b.Member, b.InFlight, b.Queued, b.GrantedTotal)
}
