package actors

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/signalscrape/signalscrape/messages"
	"github.com/signalscrape/signalscrape/persistence"
	"github.com/signalscrape/signalscrape/profile"
	"github.com/signalscrape/signalscrape/source"
)

// unavailableWait is how long a task waits before trying a source that is
// unavailable on its member again; such waits use no attempt.
const unavailableWait = 30 * time.Second

// taskDone says a task's goroutine returned, with its result, or nil when
// it was cancelled first.
type taskDone struct{ result *messages.TaskResult }

// task is the actor for one donor of one work. Its goroutine checks the
// cache, then asks for permits and fetches until the donor is settled; the
// actor reports the result to the work. Stopping the actor cancels the
// goroutine at once, which returns its permit. When the work goes away the
// task is orphaned instead: it starts no new request, so that it never
// fetches beside the work's next activation, but a request already sent
// finishes and its answer is cached, so that nobody asks the site again.
type task struct {
	deps   *Deps
	start  *messages.StartTask
	cancel context.CancelFunc
	orphan context.CancelFunc
	// orphaned is set once the work is gone; the result is then not sent.
	orphaned bool
}

func newTaskProps(deps *Deps, start *messages.StartTask) *actor.Props {
	return actor.PropsFromProducer(func() actor.Actor {
		return &task{deps: deps, start: start}
	})
}

// Receive handles one message.
func (t *task) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case *actor.Started:
		ctx.Watch(t.start.Work)
		t.launch(ctx)
	case *actor.Terminated:
		// The work that started this task is gone (stopped, or its member
		// died): its next activation starts the donor again.
		t.orphaned = true
		t.orphan()
	case *messages.TaskWaiting:
		if !t.orphaned {
			ctx.Send(t.start.Work, msg)
		}
	case *taskDone:
		if msg.result != nil && !t.orphaned {
			ctx.Send(t.start.Work, msg.result)
		}
		ctx.Stop(ctx.Self())
	case *actor.Stopping, *actor.Restarting:
		if t.cancel != nil {
			t.cancel()
		}
	}
}

func (t *task) launch(ctx actor.Context) {
	hard, cancel := context.WithCancel(context.Background())
	soft, orphan := context.WithCancel(hard)
	t.cancel, t.orphan = cancel, orphan

	self, system := ctx.Self(), ctx.ActorSystem()
	r := &run{deps: t.deps, start: t.start, hard: hard, log: t.deps.Logger.With("work_id", t.start.Idwork, "donor_id", t.start.Id)}
	r.report = func(waiting bool) {
		system.Root.Send(self, &messages.TaskWaiting{Idwork: t.start.Idwork, Id: t.start.Id, Epoch: t.start.Epoch, Waiting: waiting})
	}
	t.deps.running.Add(1)
	go func() {
		defer t.deps.running.Done()
		res := r.do(soft)
		if res != nil {
			t.deps.measure().TaskSettled(settledStatus(res))
		}
		system.Root.Send(self, &taskDone{result: res})
	}()
}

// run settles one donor. It is plain sequential code: cache, then attempts.
type run struct {
	deps  *Deps
	start *messages.StartTask
	// hard is cancelled only when the task is stopped; a request already
	// sent to the site, and the caching of its answer, run under it.
	hard     context.Context
	log      *slog.Logger
	attempts []*messages.TaskAttemptFailed
	// evidence is the key of the last stored screenshot or page of a failed
	// step, for a person to look at; evidenceHTML that of the page's HTML.
	evidence, evidenceHTML string
	// waiting is set while the run waits for its member's source; report
	// tells the work each change, through the task actor.
	waiting bool
	report  func(waiting bool)
}

// do returns the task's result, or nil when ctx was cancelled first. ctx
// governs waits and new requests; see hard for a request in flight.
func (r *run) do(ctx context.Context) *messages.TaskResult {
	if res := r.fromCache(ctx); res != nil {
		return res
	}
	for attempt := int32(1); ; {
		res, err := r.attempt(ctx, attempt)
		if ctx.Err() != nil {
			return nil
		}
		if res != nil {
			return res
		}

		var retry *retryError
		if errors.As(err, &retry) && !retry.counts {
			continue
		}
		r.attempts = append(r.attempts, &messages.TaskAttemptFailed{Id: r.start.Id, Attempt: attempt, Error: err.Error()})
		if attempt >= int32(r.deps.MaxAttempts) {
			return r.failed(fmt.Sprintf("gave up after %d attempts: %v", attempt, err), attempt, false)
		}
		sleepCtx(ctx, r.backoff(attempt))
		attempt++
	}
}

// retryError marks an attempt to repeat; counts is false for waits that the
// site or the member imposed (throttling, no source), which use no attempt.
type retryError struct {
	err    error
	counts bool
}

func (e *retryError) Error() string { return e.err.Error() }

func (r *run) fromCache(ctx context.Context) *messages.TaskResult {
	e, ok, err := r.deps.Store.CachedProfile(ctx, r.deps.Source.Key(), r.start.Id)
	if err != nil || !ok {
		return nil
	}
	switch {
	case e.Outcome == persistence.OutcomeFound:
		r.deps.measure().CacheHit()
		return r.completed(e, true, 0)
	case e.Outcome == persistence.OutcomeNotFound && time.Since(e.FetchedAt) < r.deps.NotFoundTTL:
		r.deps.measure().CacheHit()
		return r.failed(source.ErrNotFound.Error(), 0, true)
	}
	return nil
}

// attempt makes one upstream request under a permit. It returns a result
// when the donor is settled, or the error to retry on.
func (r *run) attempt(ctx context.Context, attempt int32) (*messages.TaskResult, error) {
	// A source that cannot run on this member waits without a permit, so
	// that it takes no turn from the members that can fetch.
	if err := sourceProblem(r.deps.Source); err != nil {
		r.waitForSource(ctx)
		return nil, &retryError{err: err}
	}
	r.setWaiting(false)
	lease, err := r.deps.Permits.Acquire(ctx, r.start.Idwork, r.start.Id)
	if err != nil {
		return nil, err
	}
	r.deps.measure().PermitGranted()
	// Another task may have fetched the donor while this one waited.
	if res := r.fromCache(ctx); res != nil {
		r.deps.Permits.Release(lease, time.Time{}, messages.FetchOutcome_FETCH_OUTCOME_NONE)
		return res, nil
	}
	// A task stopped while it waits for its turn gives the permit back: it
	// must never start before the permit's time.
	sleepCtx(ctx, time.Until(lease.NotBefore))
	if ctx.Err() != nil {
		r.deps.Permits.Release(lease, time.Time{}, messages.FetchOutcome_FETCH_OUTCOME_NONE)
		return nil, ctx.Err()
	}
	if late := time.Since(lease.NotBefore); late > StartWindow && !lease.Unspaced {
		r.deps.Permits.Release(lease, time.Time{}, messages.FetchOutcome_FETCH_OUTCOME_NONE)
		return nil, &retryError{err: fmt.Errorf("missed the permit's start by %s", late)}
	}

	fetchCtx, cancel := context.WithTimeout(r.hard, r.deps.FetchTimeout)
	defer cancel()
	go func() {
		select {
		case <-lease.Lost():
			cancel()
		case <-fetchCtx.Done():
		}
	}()

	r.log.Debug("fetch", "request_id", lease.ID, "not_before", lease.NotBefore.Format("15:04:05.000000"))
	began := time.Now()
	res, err := r.deps.Source.Fetch(fetchCtx, r.start.Id)
	var until time.Time
	took := time.Since(began)
	var throttled *source.ThrottledError
	if errors.As(err, &throttled) {
		until = throttled.Until
	}
	r.deps.Permits.Release(lease, until, outcome(ctx, lease, err))
	if isLost(lease) && err != nil {
		err = errLeaseLost
	}
	settled, serr := r.settle(ctx, res, err, attempt)
	r.deps.measure().Fetched(fetchOutcome(err, settled != nil), took)
	return settled, serr
}

// waitForSource waits, counted as pending, before the source is tried
// again.
func (r *run) waitForSource(ctx context.Context) {
	r.setWaiting(true)
	sleepCtx(ctx, unavailableWait)
}

// setWaiting records whether the run waits for its member's source, and
// reports a change.
func (r *run) setWaiting(waiting bool) {
	if r.waiting != waiting {
		r.waiting = waiting
		r.report(waiting)
	}
}

// sourceProblem returns why src cannot fetch on this member, or nil; a
// source without an Available method always can.
func sourceProblem(src source.Source) error {
	if a, ok := src.(interface{ Available() error }); ok {
		return a.Available()
	}
	return nil
}

// outcome tells the circuit breaker how the site answered a fetch: an
// answer of any kind, or a failure (a 5xx, a timeout, a broken connection).
// A fetch that this member abandoned says nothing of the site.
func outcome(ctx context.Context, lease *Lease, err error) messages.FetchOutcome {
	var throttled *source.ThrottledError
	switch {
	case ctx.Err() != nil || isLost(lease) || errors.Is(err, source.ErrUnavailable):
		return messages.FetchOutcome_FETCH_OUTCOME_NONE
	case err == nil || errors.Is(err, source.ErrNotFound) || errors.As(err, &throttled):
		return messages.FetchOutcome_FETCH_OUTCOME_ANSWERED
	}
	return messages.FetchOutcome_FETCH_OUTCOME_FAILED
}

func isLost(l *Lease) bool {
	select {
	case <-l.Lost():
		return true
	default:
		return false
	}
}

// settle turns one fetch outcome into a result or an error to retry on.
func (r *run) settle(ctx context.Context, res source.Result, err error, attempt int32) (*messages.TaskResult, error) {
	r.keepEvidence(r.hard, err, attempt)
	var throttled *source.ThrottledError
	switch {
	case errors.As(err, &throttled):
		r.log.Debug("site throttled", "until", throttled.Until)
		return nil, &retryError{err: err}
	case errors.Is(err, source.ErrUnavailable):
		r.waitForSource(ctx)
		return nil, &retryError{err: err}
	case errors.Is(err, source.ErrNotFound):
		return r.notFound(r.hard, res, attempt)
	case err != nil:
		return nil, err
	}

	if _, perr := profile.Parse(res.Body, r.start.Id); perr != nil {
		return nil, fmt.Errorf("invalid profile from %s: %w", res.URL, perr)
	}
	return r.store(r.hard, res, attempt)
}

// keepEvidence stores what a failed step left for a person to see: the
// screenshot or answer, and the page's HTML beside it.
func (r *run) keepEvidence(ctx context.Context, err error, attempt int32) {
	var fe *source.FetchError
	if !errors.As(err, &fe) {
		return
	}
	key := fmt.Sprintf("evidence/%s/%s-%d", r.start.Idwork, r.start.Id, attempt)
	if r.putEvidence(ctx, key, fe.Evidence) {
		r.evidence = key
	}
	if r.putEvidence(ctx, key+".html", fe.Page) {
		r.evidenceHTML = key + ".html"
	}
}

// putEvidence stores ev under key and reports whether it did.
func (r *run) putEvidence(ctx context.Context, key string, ev *source.Evidence) bool {
	if ev == nil {
		return false
	}
	if err := r.deps.Store.PutBlob(ctx, key, ev.ContentType, ev.Data); err != nil {
		r.log.Warn("storing the evidence of a failed step", "err", err)
		return false
	}
	return true
}

func (r *run) store(ctx context.Context, res source.Result, attempt int32) (*messages.TaskResult, error) {
	sum := sha256.Sum256(res.Body)
	e := persistence.CacheEntry{
		Source:    r.deps.Source.Key(),
		DonorID:   r.start.Id,
		Outcome:   persistence.OutcomeFound,
		Body:      res.Body,
		SHA256:    hex.EncodeToString(sum[:]),
		URL:       res.URL,
		FetchedAt: time.Now(),
	}
	if err := r.deps.Store.PutProfile(ctx, e); err != nil {
		return nil, fmt.Errorf("caching the profile: %w", err)
	}
	return r.completed(e, false, attempt), nil
}

func (r *run) notFound(ctx context.Context, res source.Result, attempt int32) (*messages.TaskResult, error) {
	e := persistence.CacheEntry{
		Source:    r.deps.Source.Key(),
		DonorID:   r.start.Id,
		Outcome:   persistence.OutcomeNotFound,
		URL:       res.URL,
		FetchedAt: time.Now(),
	}
	if err := r.deps.Store.PutProfile(ctx, e); err != nil {
		r.log.Warn("caching a not-found answer", "err", err)
	}
	return r.failed(source.ErrNotFound.Error(), attempt, false), nil
}

func (r *run) completed(e persistence.CacheEntry, fromCache bool, attempts int32) *messages.TaskResult {
	return &messages.TaskResult{
		Idwork: r.start.Idwork,
		Id:     r.start.Id,
		Epoch:  r.start.Epoch,
		Completed: &messages.TaskCompleted{
			Id:              r.start.Id,
			FromCache:       fromCache,
			Attempts:        attempts,
			Sha256:          e.SHA256,
			FetchedAtUnixMs: e.FetchedAt.UnixMilli(),
			SourceUrl:       e.URL,
		},
		Attempts: r.attempts,
	}
}

// settledStatus names a task result for the metrics.
func settledStatus(res *messages.TaskResult) string {
	if res.Completed != nil {
		return persistence.StatusCompleted
	}
	return persistence.StatusFailed
}

func (r *run) failed(reason string, attempts int32, fromCache bool) *messages.TaskResult {
	return &messages.TaskResult{
		Idwork: r.start.Idwork,
		Id:     r.start.Id,
		Epoch:  r.start.Epoch,
		Failed: &messages.TaskFailed{
			Id:               r.start.Id,
			Error:            reason,
			Attempts:         attempts,
			FromCache:        fromCache,
			EvidenceBlob:     r.evidence,
			EvidenceHtmlBlob: r.evidenceHTML,
		},
		Attempts: r.attempts,
	}
}

// backoff is the wait before the next attempt: exponential from RetryBase,
// capped at RetryMax, with full jitter.
func (r *run) backoff(attempt int32) time.Duration {
	d := r.deps.RetryBase << min(attempt-1, 20)
	if d <= 0 || d > r.deps.RetryMax {
		d = r.deps.RetryMax
	}
	return d/2 + rand.N(d/2+1)
}
