// Package pgtest starts private PostgreSQL servers for tests: a throwaway
// cluster in a temporary directory, listening on a free loopback port, with
// a fresh database for each test.
//
// A test package that uses ForTest shares one server, started by the first
// call; its TestMain must be pgtest.Main so that the server stops when the
// tests end:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
//
// The server also dies with the test binary if that crashes. Without
// PostgreSQL binaries (initdb and postgres, found in PATH or under
// /usr/lib/postgresql/*/bin) the tests that need a server fail, unless the
// environment sets SIGNALSCRAPE_SKIP_POSTGRES=1, which skips them.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// ErrNoPostgres means no PostgreSQL binaries were found.
var ErrNoPostgres = errors.New(
	"PostgreSQL binaries (initdb, postgres) not found in PATH or /usr/lib/postgresql/*/bin")

// Timeouts of the server's life.
const (
	readyWait    = time.Minute
	shutdownWait = 15 * time.Second
)

// Server is one running PostgreSQL cluster. Its methods are safe for
// concurrent use.
type Server struct {
	dir   string
	port  int
	bin   string
	owner *syscall.Credential
	proc  *process

	// mu serialises CREATE DATABASE, which copies template1.
	mu        sync.Mutex
	databases int

	stopOnce sync.Once
}

// Start creates a cluster in a new temporary directory and starts its server
// on a free loopback port. logf reports progress during Start only.
func Start(ctx context.Context, logf func(string, ...any)) (*Server, error) {
	bin, err := findBinaries()
	if err != nil {
		return nil, err
	}
	owner, err := serverUser()
	if err != nil {
		return nil, err
	}
	removeOrphans()
	dir, err := makeDir(owner)
	if err != nil {
		return nil, err
	}
	s := &Server{dir: dir, bin: bin, owner: owner}
	logf("pgtest: creating a PostgreSQL cluster in %s with %s", dir, bin)
	if err := initCluster(ctx, bin, s.dataDir(), owner); err != nil {
		s.Stop()
		return nil, err
	}
	if err := s.run(ctx, bin, owner); err != nil {
		s.Stop()
		return nil, err
	}
	logf("pgtest: PostgreSQL listens on 127.0.0.1:%d", s.port)
	return s, nil
}

// run starts the server, trying another port when the chosen one was taken
// in the meantime.
func (s *Server) run(ctx context.Context, bin string, owner *syscall.Credential) error {
	var err error
	for range 3 {
		if s.port, err = freePort(); err != nil {
			return err
		}
		s.proc, err = startProcess(bin, s.serverArgs(), s.logPath(), owner)
		if err != nil {
			return err
		}
		if err = s.waitReady(ctx); err == nil {
			return nil
		}
		exited := s.proc.hasExited()
		s.proc.stop()
		if !exited {
			return err
		}
	}
	return err
}

// serverArgs are the postgres command line: loopback only, sockets in the
// temporary directory, and no durability since the data are thrown away.
func (s *Server) serverArgs() []string {
	return []string{
		"-D", s.dataDir(),
		"-p", strconv.Itoa(s.port),
		"-k", s.dir,
		"-c", "listen_addresses=127.0.0.1",
		"-c", "fsync=off",
		"-c", "synchronous_commit=off",
		"-c", "full_page_writes=off",
		"-c", "max_connections=300",
	}
}

// waitReady waits until the server accepts connections.
func (s *Server) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, readyWait)
	defer cancel()
	for {
		conn, err := pgx.Connect(ctx, s.URL())
		if err == nil {
			return conn.Close(ctx)
		}
		select {
		case <-s.proc.exited:
			return fmt.Errorf("starting PostgreSQL: the server exited; its log:\n%s", s.logTail())
		case <-ctx.Done():
			return fmt.Errorf("starting PostgreSQL: not ready: %w; its log:\n%s", err, s.logTail())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Halt stops the server as a database restart would, ending every session,
// but keeps its data. It is not safe to call concurrently with Resume.
func (s *Server) Halt() {
	s.proc.stop()
}

// Resume starts a halted server again, on the same port and data, and
// waits until it accepts connections.
func (s *Server) Resume(ctx context.Context) error {
	var err error
	if s.proc, err = startProcess(s.bin, s.serverArgs(), s.logPath(), s.owner); err != nil {
		return err
	}
	return s.waitReady(ctx)
}

// URL is the address of the server's postgres database, as superuser.
func (s *Server) URL() string {
	return s.databaseURL("postgres")
}

// databaseURL is the address of one database.
func (s *Server) databaseURL(name string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", s.port, name)
}

// NewDatabase creates an empty database and returns its URL.
func (s *Server) NewDatabase(ctx context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.databases++
	name := fmt.Sprintf("test_%d", s.databases)
	if err := s.admin(ctx, "CREATE DATABASE "+name); err != nil {
		return "", fmt.Errorf("creating database %s: %w", name, err)
	}
	return s.databaseURL(name), nil
}

// dropDatabase removes a database made by NewDatabase, ending its sessions.
func (s *Server) dropDatabase(ctx context.Context, url string) error {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return fmt.Errorf("dropping database: %w", err)
	}
	name := pgx.Identifier{cfg.Database}.Sanitize()
	if err := s.admin(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("dropping database %s: %w", name, err)
	}
	return nil
}

// admin runs one statement on the postgres database.
func (s *Server) admin(ctx context.Context, sql string) error {
	conn, err := pgx.Connect(ctx, s.URL())
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, sql)
	return err
}

// Stop shuts the server down, killing it if it lingers, and removes its
// directory. Calling it again does nothing.
func (s *Server) Stop() {
	s.stopOnce.Do(func() {
		if s.proc != nil {
			s.proc.stop()
		}
		os.RemoveAll(s.dir)
	})
}

// dataDir holds the cluster.
func (s *Server) dataDir() string { return filepath.Join(s.dir, "data") }

// logPath receives the server's output.
func (s *Server) logPath() string { return filepath.Join(s.dir, "server.log") }

// logTail returns the end of the server's log, for error messages.
func (s *Server) logTail() string {
	b, err := os.ReadFile(s.logPath())
	if err != nil {
		return err.Error()
	}
	const keep = 4000
	if len(b) > keep {
		b = b[len(b)-keep:]
	}
	return string(b)
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// process is a running postgres server.
type process struct {
	cmd    *exec.Cmd
	exited chan struct{}
}

// startProcess starts postgres from a goroutine that keeps its OS thread
// until the server exits: the kernel signals the server when that thread
// dies, so a crashed test binary does not leave it running.
func startProcess(bin string, args []string, logPath string, owner *syscall.Credential) (*process, error) {
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("opening server log: %w", err)
	}
	cmd := exec.Command(filepath.Join(bin, "postgres"), args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: owner, Pdeathsig: syscall.SIGQUIT, Setpgid: true}
	p := &process{cmd: cmd, exited: make(chan struct{})}
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer close(p.exited)
		defer logFile.Close()
		if err := cmd.Start(); err != nil {
			started <- fmt.Errorf("starting postgres: %w", err)
			return
		}
		started <- nil
		cmd.Wait()
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	return p, nil
}

// stop asks for a fast shutdown, then kills the server if it lingers.
func (p *process) stop() {
	if p.hasExited() {
		return
	}
	p.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-p.exited:
	case <-time.After(shutdownWait):
		syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.exited
	}
}

// hasExited reports whether the server has exited.
func (p *process) hasExited() bool {
	select {
	case <-p.exited:
		return true
	default:
		return false
	}
}
