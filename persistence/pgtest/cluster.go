package pgtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
)

// binGlob is where Debian and Ubuntu install PostgreSQL's programs.
const binGlob = "/usr/lib/postgresql/*/bin"

// findBinaries returns the directory holding initdb and postgres: the one in
// PATH, else the newest under binGlob.
func findBinaries() (string, error) {
	if initdb, err := exec.LookPath("initdb"); err == nil {
		dir := filepath.Dir(initdb)
		if isExec(filepath.Join(dir, "postgres")) {
			return dir, nil
		}
	}
	dirs, _ := filepath.Glob(binGlob)
	slices.SortFunc(dirs, compareVersionDirs)
	for _, dir := range slices.Backward(dirs) {
		if isExec(filepath.Join(dir, "initdb")) && isExec(filepath.Join(dir, "postgres")) {
			return dir, nil
		}
	}
	return "", ErrNoPostgres
}

// compareVersionDirs orders /usr/lib/postgresql/<major>/bin by major version.
func compareVersionDirs(a, b string) int {
	va, _ := strconv.Atoi(filepath.Base(filepath.Dir(a)))
	vb, _ := strconv.Atoi(filepath.Base(filepath.Dir(b)))
	return va - vb
}

// isExec reports whether path is an executable file.
func isExec(path string) bool {
	info, err := os.Stat(path)
	return err == nil && !info.IsDir() && info.Mode()&0o111 != 0
}

// serverUser returns the credentials to run PostgreSQL with: nil to run as
// ourselves, or the postgres system user's when we are root, since
// PostgreSQL refuses to run as root.
func serverUser() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root, PostgreSQL needs the postgres system user: %w", err)
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("reading uid of postgres: %w", err)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("reading gid of postgres: %w", err)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// Naming of cluster directories: the prefix, and the file in each that holds
// the pid of the test binary that made it.
const (
	dirPrefix = "signalscrape-pgtest-"
	ownerFile = "owner.pid"
)

// makeDir creates the temporary directory of a cluster, owned by the user
// that runs the server, and records which process it belongs to.
func makeDir(owner *syscall.Credential) (string, error) {
	dir, err := os.MkdirTemp("", dirPrefix)
	if err != nil {
		return "", fmt.Errorf("creating cluster directory: %w", err)
	}
	pid := []byte(strconv.Itoa(os.Getpid()))
	if err := os.WriteFile(filepath.Join(dir, ownerFile), pid, 0o644); err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("recording cluster directory's owner: %w", err)
	}
	if owner != nil {
		if err := os.Chown(dir, int(owner.Uid), int(owner.Gid)); err != nil {
			os.RemoveAll(dir)
			return "", fmt.Errorf("handing cluster directory to postgres: %w", err)
		}
	}
	return dir, nil
}

// initCluster runs initdb: superuser postgres, trusted local connections.
func initCluster(ctx context.Context, bin, dataDir string, owner *syscall.Credential) error {
	cmd := exec.CommandContext(ctx, filepath.Join(bin, "initdb"),
		"-D", dataDir, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: owner}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("running initdb: %w\n%s", err, out)
	}
	return nil
}

// removeOrphans removes the cluster directories left by test binaries that
// died before they could stop their server (whose server died with them).
func removeOrphans() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), dirPrefix+"*"))
	for _, dir := range dirs {
		b, err := os.ReadFile(filepath.Join(dir, ownerFile))
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(string(b))
		if err != nil || pid <= 0 || processExists(pid) {
			continue
		}
		os.RemoveAll(dir)
	}
}

// processExists reports whether a process with this pid is alive.
func processExists(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
