package main

import (
	"bufio"
	"cmp"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/signalscrape/signalscrape/http/client"
	"github.com/signalscrape/signalscrape/persistence/pgtest"

	"github.com/signalscrape/signalscrape/profile/fixtures"
)

// binary is the signalscrape command built once for the process tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "signalscrape-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "making a temp dir:", err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "signalscrape")
	out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "building signalscrape: %v\n%s", err, out)
		os.Exit(1)
	}
	defer os.RemoveAll(dir)
	pgtest.Main(m)
}

// freeAddr returns a loopback address with a port nobody listens on now.
func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// proc is a signalscrape process started by a test.
type proc struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
	mu   sync.Mutex
	err  error
}

// startProc runs the binary with args; its output goes to a file that the
// test prints when it fails.
func startProc(t testing.TB, name string, args ...string) *proc {
	t.Helper()
	f, err := os.CreateTemp(artifactDir(t), name+"-*.log")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary, args...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.Env = append(os.Environ(), "SIGNALSCRAPE_SERVER=")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}

	p := &proc{name: name, cmd: cmd, log: f.Name(), done: make(chan struct{})}
	go func() {
		err := cmd.Wait()
		f.Close()
		p.mu.Lock()
		p.err = err
		p.mu.Unlock()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			tail(t, p)
		}
	})
	return p
}

// artifactDir is where process logs go: a folder named for the test under
// SIGNALSCRAPE_ARTIFACTS when that is set (CI keeps it), else the test's
// temp dir.
func artifactDir(t testing.TB) string {
	if root := os.Getenv("SIGNALSCRAPE_ARTIFACTS"); root != "" {
		dir := filepath.Join(root, t.Name())
		if err := os.MkdirAll(dir, 0o755); err == nil {
			return dir
		}
	}
	return t.TempDir()
}

// kill stops the process at once, as a crash would (SIGKILL).
func (p *proc) kill() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// stop asks the process to end (SIGTERM) and waits up to d.
func (p *proc) stop(d time.Duration) bool {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return true
	case <-time.After(d):
		p.kill()
		return false
	}
}

func tail(t testing.TB, p *proc) {
	f, err := os.Open(p.log)
	if err != nil {
		return
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(lines) > 60 {
		lines = lines[len(lines)-60:]
	}
	t.Logf("--- last lines of %s ---\n%s", p.name, strings.Join(lines, "\n"))
}

// mock is a running mock-signal.
type mock struct {
	*proc
	addr string
	log  string
}

func startMock(t testing.TB, extra ...string) *mock {
	t.Helper()
	addr := freeAddr(t)
	f, err := os.CreateTemp(artifactDir(t), "requests-*.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	logPath := f.Name()
	args := append([]string{"mock-signal", "--addr", addr, "--profiles", fixtures.ProfilesDir(t), "--log", logPath}, extra...)
	p := startProc(t, "mock-signal", args...)
	waitHTTP(t, "http://"+addr+"/", 10*time.Second)
	return &mock{proc: p, addr: addr, log: logPath}
}

// template is the http source's URL template for this mock.
func (m *mock) template() string { return "http://" + m.addr + "/sample/{id}.csv" }

// testMinGap is the smallest gap between upstream requests in the process
// tests: small enough for a quick run, large against scheduling noise.
const testMinGap = 30 * time.Millisecond

// gapTolerance is how much earlier than the gap the site may log a request.
// The bucket spaces request starts by the drawn gap, never by less than the
// minimum plus a 2 ms start window, and a holder starts within that window
// or not at all, so the site should never see less than the minimum; the tolerance covers the scheduling of the client's
// transport and the site's goroutines, which differ from one request to the
// next. On this 2-core machine running three members, PostgreSQL and the
// site, the smallest gap seen at a 30 ms minimum was 30.5 ms, and 25.7 ms
// while other tests ran beside them.
const gapTolerance = 8 * time.Millisecond

// node is a running signalscrape serve.
type node struct {
	*proc
	name   string
	http   string
	gossip string
	actor  string
	args   []string
	client *client.Client
}

// nodeSpec describes a node to start; empty addresses are picked free.
type nodeSpec struct {
	name, dataDir, databaseURL, join string
	http, gossip, actor              string
	extra                            []string
	// readyPath is what launchNode waits to answer 200; empty: /readyz.
	readyPath string
}

func launchNode(t testing.TB, m *mock, spec nodeSpec) *node {
	t.Helper()
	if spec.http == "" {
		spec.http = freeAddr(t)
	}
	if spec.gossip == "" {
		spec.gossip = freeAddr(t)
	}
	if spec.actor == "" {
		spec.actor = freeAddr(t)
	}
	args := []string{"serve",
		"--node-name", spec.name,
		"--http-addr", spec.http, "--gossip-addr", spec.gossip, "--actor-addr", spec.actor,
		"--source", "http", "--source-url", m.template(),
		"--min-interval", testMinGap.String(), "--max-interval", "35ms", "--max-concurrency", "2",
		"--retry-base", "20ms", "--lease-ttl", "2s",
	}
	if spec.dataDir != "" {
		args = append(args, "--data-dir", spec.dataDir)
	}
	if spec.databaseURL != "" {
		args = append(args, "--database-url", spec.databaseURL)
	}
	if spec.join != "" {
		args = append(args, "--join", spec.join)
	}
	args = append(args, spec.extra...)

	n := &node{name: spec.name, http: spec.http, gossip: spec.gossip, actor: spec.actor, args: args}
	n.proc = startProc(t, spec.name, args...)
	c, err := client.New("http://" + spec.http)
	if err != nil {
		t.Fatal(err)
	}
	n.client = c
	waitHTTP(t, "http://"+spec.http+cmp.Or(spec.readyPath, "/readyz"), 30*time.Second)
	return n
}

// restart starts the node again with the same arguments, after a crash.
func (n *node) restart(t testing.TB) {
	t.Helper()
	n.proc = startProc(t, n.name, n.args...)
	waitHTTP(t, "http://"+n.http+"/readyz", 30*time.Second)
}

// waitHTTP waits until url answers 200.
func waitHTTP(t testing.TB, url string, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s did not answer 200 within %s", url, d)
}

// waitStatus polls a work until cond holds or d passes.
func waitStatus(t testing.TB, c *client.Client, id string, d time.Duration, cond func(*client.Status) bool) *client.Status {
	t.Helper()
	deadline := time.Now().Add(d)
	var last *client.Status
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		st, err := c.Status(ctx, id)
		cancel()
		if err == nil {
			last = st
			if cond(st) {
				return st
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("work %s: condition not met within %s; last status %+v", id, d, last)
	return nil
}

func finished(st *client.Status) bool { return st.Finished() }
