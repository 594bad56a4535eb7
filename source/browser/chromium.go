package browser

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/systeminfo"
	"github.com/chromedp/chromedp"

	"github.com/signalscrape/signalscrape/source"
)

// chromiumNames are the names the browser goes by, in the order they are
// looked up.
var chromiumNames = []string{"chromium", "chromium-browser", "google-chrome"}

// installHint tells a person how to get a browser.
const installHint = "install it with 'apt-get install chromium', or run the node with --source=http"

// findChromium returns the browser to run: configured, when it is set, else
// the first of chromiumNames in PATH or /usr/bin. The error wraps
// source.ErrUnavailable.
func findChromium(configured string) (string, error) {
	if configured != "" {
		if err := checkExecutable(configured); err != nil {
			return "", fmt.Errorf("%w: Chromium %s: %w; %s", source.ErrUnavailable, configured, err, installHint)
		}
		return configured, nil
	}
	for _, name := range chromiumNames {
		if path, err := exec.LookPath(name); err == nil {
			return path, nil
		}
		if path := filepath.Join("/usr/bin", name); checkExecutable(path) == nil {
			return path, nil
		}
	}
	return "", fmt.Errorf("%w: no Chromium found (looked for %s in PATH and /usr/bin); %s",
		source.ErrUnavailable, strings.Join(chromiumNames, ", "), installHint)
}

func checkExecutable(path string) error {
	info, err := os.Stat(path)
	if err != nil {
		return err
	}
	if info.IsDir() || info.Mode().Perm()&0o111 == 0 {
		return errors.New("not an executable file")
	}
	return nil
}

// allocatorOptions are the flags of the browser: headless, quiet (no
// background traffic, updates or sync) and usable in a container.
func (s *Source) allocatorOptions() []chromedp.ExecAllocatorOption {
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(s.chromium),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.WindowSize(1280, 1024),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-breakpad", true),
		chromedp.Flag("metrics-recording-only", true),
		chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.Flag("disable-backgrounding-occluded-windows", true),
		chromedp.Flag("disable-renderer-backgrounding", true),
	}
	if s.cfg.UserAgent != "" {
		opts = append(opts, chromedp.UserAgent(s.cfg.UserAgent))
	}
	return opts
}

// instance is one browser process. Its counters are guarded by the gate of
// the Source.
type instance struct {
	ctx         context.Context // the chromedp context of the browser
	cancel      context.CancelFunc
	allocCancel context.CancelFunc

	pages   int  // fetches started in it
	leases  int  // fetches in flight in it
	retired bool // takes no more fetches; stops when leases is zero

	stopOnce    sync.Once
	stoppedOnce sync.Once
	// stopped is closed once the process is gone and the Source no longer
	// holds it.
	stopped chan struct{}
}

// minStartTimeout is the least time a browser is given to start, however
// short the step timeout: on a busy machine Chromium takes seconds.
const minStartTimeout = 20 * time.Second

// start runs a browser. chromedp ties the browser to the context of its
// first run, so the start runs on a context of its own and a timer or ctx
// cancels it. The user data directory is a temporary one that chromedp
// removes when the browser exits.
func (s *Source) start(ctx context.Context) (*instance, error) {
	allocCtx, allocCancel := chromedp.NewExecAllocator(context.Background(), s.allocatorOptions()...)
	bctx, cancel := chromedp.NewContext(allocCtx,
		chromedp.WithLogf(s.chromedpLog("chromedp log")),
		chromedp.WithErrorf(s.chromedpLog("chromedp error")))
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(bctx) }()

	limit := max(s.cfg.StepTimeout, minStartTimeout)
	timer := time.NewTimer(limit)
	defer timer.Stop()
	var err error
	select {
	case err = <-started:
	case <-timer.C:
		cancel()
		err = fmt.Errorf("no answer within %s: %w", limit, <-started)
	case <-ctx.Done():
		cancel()
		<-started
		err = ctx.Err()
	}
	if err != nil {
		cancel()
		allocCancel()
		return nil, startError(s.chromium, err)
	}
	s.logger.Info("browser started", "chromium", s.chromium)
	return &instance{ctx: bctx, cancel: cancel, allocCancel: allocCancel, stopped: make(chan struct{})}, nil
}

// startError wraps source.ErrUnavailable into an error that shows the
// browser cannot run at all.
func startError(chromium string, err error) error {
	var execErr *exec.Error
	if errors.As(err, &execErr) || errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
		return fmt.Errorf("%w: starting Chromium %s: %w; %s", source.ErrUnavailable, chromium, err, installHint)
	}
	return fmt.Errorf("starting Chromium %s: %w", chromium, err)
}

func (s *Source) chromedpLog(msg string) func(string, ...any) {
	return func(format string, args ...any) {
		s.logger.Debug(msg, "text", fmt.Sprintf(format, args...))
	}
}

// stop closes the browser, gracefully for a few seconds, then by force,
// and waits until the process is gone. It may be called more than once.
func (inst *instance) stop() {
	inst.stopOnce.Do(func() {
		ctx, cancel := context.WithTimeout(inst.ctx, 5*time.Second)
		_ = chromedp.Cancel(ctx)
		cancel()
		inst.cancel()
		inst.allocCancel()
	})
}

// markStopped wakes the fetches waiting for inst to be replaced. It may be
// called more than once.
func (inst *instance) markStopped() {
	inst.stoppedOnce.Do(func() { close(inst.stopped) })
}

// dead reports whether the browser exited or lost its connection.
func (inst *instance) dead() bool { return inst.ctx.Err() != nil }

// memoryMB adds up the resident memory of the browser's processes, read from
// /proc: an upper bound, as the processes share some pages. It fails where
// /proc is missing.
func memoryMB(inst *instance) (int, error) {
	ctx, cancel := context.WithTimeout(inst.ctx, 2*time.Second)
	defer cancel()
	info, err := chromedp.CallBrowser(ctx, systeminfo.GetProcessInfo, cdp.Empty{})
	if err != nil {
		return 0, fmt.Errorf("listing browser processes: %w", err)
	}
	pids := map[int64]bool{}
	if p := chromedp.FromContext(inst.ctx).Browser.Process(); p != nil {
		pids[int64(p.Pid)] = true
	}
	for _, proc := range info.ProcessInfo {
		pids[proc.ID] = true
	}
	var bytes int64
	for pid := range pids {
		rss, err := residentBytes(pid)
		if err != nil {
			return 0, err
		}
		bytes += rss
	}
	return int(bytes >> 20), nil
}

// residentBytes reads the resident set of process pid from /proc/pid/statm.
func residentBytes(pid int64) (int64, error) {
	data, err := os.ReadFile(filepath.Join("/proc", strconv.FormatInt(pid, 10), "statm"))
	if err != nil {
		return 0, fmt.Errorf("reading memory of process %d: %w", pid, err)
	}
	fields := strings.Fields(string(data))
	if len(fields) < 2 {
		return 0, fmt.Errorf("reading memory of process %d: short statm %q", pid, data)
	}
	pages, err := strconv.ParseInt(fields[1], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("reading memory of process %d: %w", pid, err)
	}
	return pages * int64(os.Getpagesize()), nil
}

// overMemory reports whether the browser has grown past Config.MaxMemoryMB.
// A failed measure is logged and counts as not over.
func (s *Source) overMemory(inst *instance) bool {
	if s.cfg.MaxMemoryMB <= 0 || inst.dead() {
		return false
	}
	mb, err := memoryMB(inst)
	if err != nil {
		s.logger.Debug("measuring browser memory", "err", err)
		return false
	}
	if mb > s.cfg.MaxMemoryMB {
		s.logger.Info("browser memory over the limit", "rss_mb", mb, "max_mb", s.cfg.MaxMemoryMB)
		return true
	}
	return false
}
