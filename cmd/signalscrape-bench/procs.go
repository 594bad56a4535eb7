package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// proc is a process the benchmark started: mock-signal or a node.
type proc struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
}

// lab starts the processes of the benchmark from one binary, each logging
// to its own file in dir, and kills those still running at the end.
type lab struct {
	binary string
	dir    string
	procs  []*proc
	serial int
}

// start runs the binary with args. The process dies with the benchmark
// (Pdeathsig) and sees none of the SIGNALSCRAPE_* variables of our
// environment, so that only the flags configure it.
func (l *lab) start(name string, args ...string) (*proc, error) {
	l.serial++
	logPath := filepath.Join(l.dir, fmt.Sprintf("%02d-%s.log", l.serial, name))
	f, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("creating log of %s: %w", name, err)
	}
	cmd := exec.Command(l.binary, args...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.Env = cleanEnv()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}

	p := &proc{name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		f.Close()
		close(p.done)
	}()
	l.procs = append(l.procs, p)
	return p, nil
}

// cleanEnv is our environment without the variables that serve reads.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SIGNALSCRAPE_") {
			env = append(env, kv)
		}
	}
	return env
}

// stopAll kills every process still running.
func (l *lab) stopAll() {
	for _, p := range l.procs {
		p.kill()
	}
	l.procs = nil
}

// kill ends the process at once, as a crash would (SIGKILL), and waits for
// it.
func (p *proc) kill() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// alive reports whether the process still runs.
func (p *proc) alive() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// peakRSS reads the process's peak resident memory (VmHWM) in bytes.
func (p *proc) peakRSS() (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return 0, fmt.Errorf("reading status of %s: %w", p.name, err)
	}
	for line := range strings.Lines(string(b)) {
		rest, ok := strings.CutPrefix(line, "VmHWM:")
		if !ok {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("reading VmHWM of %s: %w", p.name, err)
		}
		return kb * 1024, nil
	}
	return 0, fmt.Errorf("no VmHWM in the status of %s", p.name)
}

// freeAddr returns a loopback address whose port was free a moment ago.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("finding a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// waitHTTP waits until url answers 200, or p exits, or d passes.
func waitHTTP(p *proc, url string, d time.Duration) error {
	deadline := time.Now().Add(d)
	hc := &http.Client{Timeout: 2 * time.Second}
	for time.Now().Before(deadline) {
		if !p.alive() {
			return fmt.Errorf("%s exited while starting; see %s", p.name, p.log)
		}
		resp, err := hc.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("%s: %s did not answer 200 within %s; see %s", p.name, url, d, p.log)
}
