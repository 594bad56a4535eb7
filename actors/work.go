package actors

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	pcluster "github.com/asynkron/protoactor-go/cluster"

	"github.com/signalscrape/signalscrape/messages"
	"github.com/signalscrape/signalscrape/persistence"
	"github.com/signalscrape/signalscrape/profile"
)

const (
	// flushDelay batches the events of tasks that end close together.
	flushDelay = 20 * time.Millisecond
	// retryDelay is the wait before a failed store write is tried again.
	retryDelay = time.Second
	// idleTimeout passivates a work that has nothing to run.
	idleTimeout = 2 * time.Minute
	// storeTimeout bounds one store call of the work.
	storeTimeout = 10 * time.Second
)

type flushMsg struct{}

// checkMsg starts a round of asking the task hosts what they run.
type checkMsg struct{}

// checkEvery is how often a work asks its task hosts which of its tasks they
// run; a task that a host does not know (its member restarted, or a message
// was lost) is dispatched again.
const checkEvery = 3 * time.Second

// dispatch is where and when a task was sent, and whether it waits for its
// member's source (and so counts as pending).
type dispatch struct {
	addr    string
	at      time.Time
	waiting bool
}

// work is the Work grain: identity = work id. On activation it replays its
// events; if tasks are left, it claims the log with a WorkActivated event
// (whose sequence number is its epoch) and dispatches task actors to the
// members' task hosts, a window at a time. Results become events, written in
// small batches; a write that finds another activation's events stops this
// one.
type work struct {
	deps *Deps
	log  *slog.Logger
	id   string

	state      *workState
	seq        int64
	epoch      int64
	missing    bool
	next       int
	dispatched map[string]dispatch
	hosts      map[string]bool
	// unanswered counts the checks a task host has not answered in a row.
	unanswered map[string]int
	members    []string
	rr         int
	pending    []*messages.Event
	flushArmed bool
	limits     persistence.Limits
	limitsAt   time.Time
	// problem is the store failure that holds the work back, shown in its
	// status until a write succeeds.
	problem string
}

// NewWorkProps returns the props of the Work grain.
func NewWorkProps(deps *Deps) *actor.Props {
	return actor.PropsFromProducer(func() actor.Actor {
		return &work{deps: deps}
	})
}

// Receive handles one message.
func (w *work) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case *pcluster.ClusterInit:
		w.activate(ctx, msg.Identity.Identity)
	case *messages.WakeWork:
		ctx.Respond(&messages.WakeAck{Found: !w.missing, Status: w.currentStatus()})
	case *messages.GetStatus:
		ctx.Respond(w.snapshot())
	case *messages.CancelWork:
		ctx.Respond(w.cancel(ctx))
	case *messages.TaskResult:
		w.result(ctx, msg)
	case *messages.TaskWaiting:
		w.taskWaiting(msg)
		w.reportTasks(ctx)
	case *flushMsg:
		w.flushArmed = false
		w.flush(ctx)
		w.maybeFinish(ctx)
	case *actor.Terminated:
		w.hostGone(ctx, msg.Who)
	case *checkMsg:
		w.check(ctx)
	case *messages.WorkTasks:
		w.reconcile(ctx, msg)
	case *actor.ReceiveTimeout:
		if w.missing || w.state.terminal() {
			ctx.Poison(ctx.Self())
		}
	case *actor.Stopping:
		// A member shutting down writes what it holds, so that the next
		// activation does not start those donors again.
		w.flush(ctx)
	}
	w.reportTasks(ctx)
}

// reportTasks hands the task counts of an unfinished work to the metrics,
// and forgets the work once it has finished or its activation stops.
func (w *work) reportTasks(ctx actor.Context) {
	if w.state == nil {
		return
	}
	_, stopped := ctx.Message().(*actor.Stopped)
	if stopped || w.missing || w.state.terminal() {
		w.deps.measure().WorkTasks(w.id, nil)
		return
	}
	w.deps.measure().WorkTasks(w.id, w.state.counts(w.running()))
}

func (w *work) activate(ctx actor.Context, id string) {
	w.id = id
	w.log = w.deps.Logger.With("work_id", id)
	w.dispatched = map[string]dispatch{}
	w.hosts = map[string]bool{}
	w.unanswered = map[string]int{}
	ctx.SetReceiveTimeout(idleTimeout)

	if err := w.load(); err != nil {
		w.log.Error("loading the work's events", "err", err)
		ctx.Stop(ctx.Self())
		return
	}
	if w.missing || w.state.terminal() {
		return
	}
	if w.state.allDone() {
		w.maybeFinish(ctx)
		return
	}
	if err := w.claim(); err != nil {
		w.log.Warn("another activation holds the work; stopping", "err", err)
		ctx.Stop(ctx.Self())
		return
	}
	w.log.Info("work active", "member", w.deps.Member, "epoch", w.epoch, "left", w.state.total()-w.state.completed-w.state.failed)
	w.dispatch(ctx)
	sendLater(ctx.ActorSystem(), ctx.Self(), checkEvery, &checkMsg{})
}

// load replays the work's events.
func (w *work) load() error {
	sctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	events, err := w.deps.Store.Events(sctx, w.id)
	if err != nil {
		return fmt.Errorf("reading events: %w", err)
	}
	w.state = newWorkState()
	w.missing = len(events) == 0
	for _, ev := range events {
		w.state.apply(ev)
		w.seq = ev.Seq
	}
	return nil
}

// claim appends WorkActivated, so an older activation's next write fails.
func (w *work) claim() error {
	ev := &messages.Event{AtUnixMs: time.Now().UnixMilli(), Kind: &messages.Event_Activated{Activated: &messages.WorkActivated{Member: w.deps.Member}}}
	for range 3 {
		sctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
		err := w.deps.Store.Append(sctx, w.id, w.seq, persistence.StatusRunning, ev)
		cancel()
		if err == nil {
			w.seq++
			w.epoch = w.seq
			return nil
		}
		if !errors.Is(err, persistence.ErrConflict) {
			return err
		}
		if err := w.load(); err != nil {
			return err
		}
		if w.state.terminal() {
			return fmt.Errorf("work ended meanwhile")
		}
	}
	return persistence.ErrConflict
}

// dispatch starts tasks until the window is full, round-robin over members.
func (w *work) dispatch(ctx actor.Context) {
	if w.state.terminal() {
		return
	}
	w.refreshMembers()
	for len(w.dispatched) < w.deps.TaskWindow && w.next < len(w.state.order) {
		d := w.state.order[w.next]
		w.next++
		if d.done() {
			continue
		}
		w.startTask(ctx, d.id)
	}
}

func (w *work) startTask(ctx actor.Context, donorID string) {
	addr := w.members[w.rr%len(w.members)]
	w.rr++
	host := actor.NewPID(addr, TaskHostName)
	if !w.hosts[addr] {
		ctx.Watch(host)
		w.hosts[addr] = true
	}
	w.dispatched[donorID] = dispatch{addr: addr, at: time.Now()}
	ctx.Send(host, &messages.StartTask{Idwork: w.id, Id: donorID, Work: ctx.Self(), Epoch: w.epoch})
}

func (w *work) refreshMembers() {
	w.members = w.members[:0]
	for _, m := range w.deps.Cluster.MemberList.Members().Members() {
		w.members = append(w.members, m.Address())
	}
	if len(w.members) == 0 {
		w.members = append(w.members, w.deps.Cluster.ActorSystem.Address())
	}
}

// check asks every host that should run tasks of this activation which ones
// it runs; the answers arrive as WorkTasks. A host that missed two checks in
// a row is treated as gone.
func (w *work) check(ctx actor.Context) {
	if w.state.terminal() {
		return
	}
	asked := map[string]bool{}
	for _, d := range w.dispatched {
		if asked[d.addr] {
			continue
		}
		asked[d.addr] = true
		w.unanswered[d.addr]++
		if w.unanswered[d.addr] > 2 {
			w.unanswered[d.addr] = 0
			w.hostGone(ctx, actor.NewPID(d.addr, TaskHostName))
			continue
		}
		ctx.Request(actor.NewPID(d.addr, TaskHostName), &messages.ListWorkTasks{Idwork: w.id, Epoch: w.epoch})
	}
	sendLater(ctx.ActorSystem(), ctx.Self(), checkEvery, &checkMsg{})
}

// reconcile dispatches again the tasks a host should run but does not know.
// Only tasks sent well before the check count: a StartTask may still be on
// its way.
func (w *work) reconcile(ctx actor.Context, msg *messages.WorkTasks) {
	w.unanswered[msg.Address] = 0
	running := make(map[string]bool, len(msg.Ids))
	for _, id := range msg.Ids {
		running[id] = true
	}
	cutoff := time.Now().Add(-checkEvery)
	for id, d := range w.dispatched {
		if d.addr == msg.Address && !running[id] && d.at.Before(cutoff) {
			delete(w.dispatched, id)
			w.startTask(ctx, id)
		}
	}
}

// hostGone puts back the tasks of a member whose task host went away.
func (w *work) hostGone(ctx actor.Context, who *actor.PID) {
	delete(w.hosts, who.Address)
	lost := 0
	for id, d := range w.dispatched {
		if d.addr == who.Address {
			delete(w.dispatched, id)
			w.startTask(ctx, id)
			lost++
		}
	}
	if lost > 0 {
		w.log.Info("member gone; tasks dispatched again", "member_addr", who.Address, "tasks", lost)
	}
}

// taskWaiting records whether a task of this activation waits for its
// member's source.
func (w *work) taskWaiting(msg *messages.TaskWaiting) {
	d, ok := w.dispatched[msg.Id]
	if !ok || msg.Epoch != w.epoch {
		return
	}
	d.waiting = msg.Waiting
	w.dispatched[msg.Id] = d
}

// running counts the dispatched tasks that do not wait for their member's
// source: those ask for permits or fetch.
func (w *work) running() int {
	n := 0
	for _, d := range w.dispatched {
		if !d.waiting {
			n++
		}
	}
	return n
}

func (w *work) result(ctx actor.Context, res *messages.TaskResult) {
	delete(w.dispatched, res.Id)
	if w.state.terminal() || w.state.pending(res.Id) == nil {
		return
	}

	now := time.Now().UnixMilli()
	for _, a := range res.Attempts {
		w.record(now, &messages.Event{Kind: &messages.Event_AttemptFailed{AttemptFailed: a}})
	}
	switch {
	case res.Completed != nil:
		w.record(now, &messages.Event{Kind: &messages.Event_Completed{Completed: res.Completed}})
	case res.Failed != nil:
		w.record(now, &messages.Event{Kind: &messages.Event_Failed{Failed: res.Failed}})
	}

	w.armFlush(ctx)
	w.dispatch(ctx)
}

// record applies an event at once and queues it for the next flush.
func (w *work) record(at int64, ev *messages.Event) {
	ev.AtUnixMs = at
	w.state.apply(ev)
	w.pending = append(w.pending, ev)
}

func (w *work) armFlush(ctx actor.Context) {
	if w.flushArmed {
		return
	}
	w.flushArmed = true
	sendLater(ctx.ActorSystem(), ctx.Self(), flushDelay, &flushMsg{})
}

// flush writes the queued events. A conflict means another activation took
// the work over: this one stops, which orphans its tasks (they finish a
// request already sent, then stop). Other errors are retried; the events
// stay queued.
func (w *work) flush(ctx actor.Context) bool {
	if len(w.pending) == 0 {
		return true
	}
	status := w.state.status(w.running())
	sctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()

	err := w.deps.Store.Append(sctx, w.id, w.seq, status, w.pending...)
	switch {
	case err == nil:
		w.seq += int64(len(w.pending))
		w.pending = nil
		w.problem = ""
		return true
	case errors.Is(err, persistence.ErrConflict):
		w.log.Warn("work taken over by another activation; stopping", "epoch", w.epoch)
		ctx.Stop(ctx.Self())
	default:
		w.log.Warn("writing the work's events; will retry", "err", err)
		w.problem = "storing the work's progress failed; retrying every second"
		w.flushArmed = true
		sendLater(ctx.ActorSystem(), ctx.Self(), retryDelay, &flushMsg{})
	}
	return false
}

// maybeFinish writes the result matrix and the final event once every donor
// is settled and every event is written.
func (w *work) maybeFinish(ctx actor.Context) {
	if w.state.terminal() || !w.state.allDone() || len(w.pending) > 0 {
		return
	}

	fin, err := w.buildResult()
	if err != nil {
		w.log.Warn("writing the result; will retry", "err", err)
		w.problem = "storing the result failed; retrying every second"
		w.flushArmed = true
		sendLater(ctx.ActorSystem(), ctx.Self(), retryDelay, &flushMsg{})
		return
	}
	w.record(time.Now().UnixMilli(), &messages.Event{Kind: &messages.Event_Finished{Finished: fin}})
	if w.flush(ctx) {
		w.log.Info("work finished", "status", fin.Status, "completed", w.state.completed, "failed", w.state.failed, "from_cache", w.state.fromCache)
	}
}

// buildResult writes the matrix: a column per label whose donor completed,
// in upload order, the counts read back from the profile cache.
func (w *work) buildResult() (*messages.WorkFinished, error) {
	status := w.state.finalStatus()
	if w.state.completed == 0 {
		return &messages.WorkFinished{Status: status, Error: "no donor has a profile"}, nil
	}

	sctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	cols, err := w.columns(sctx)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := profile.WriteMatrix(&buf, "csv", cols); err != nil {
		return nil, fmt.Errorf("writing the matrix: %w", err)
	}
	key := "results/" + w.id + ".csv"
	if err := w.deps.Store.PutBlob(sctx, key, "text/csv", buf.Bytes()); err != nil {
		return nil, fmt.Errorf("storing the matrix: %w", err)
	}
	return &messages.WorkFinished{Status: status, ResultBlob: key}, nil
}

func (w *work) columns(ctx context.Context) ([]profile.Column, error) {
	counts := map[string][96]int64{}
	var cols []profile.Column
	for _, e := range w.state.entries {
		d := w.state.donors[e.id]
		if d == nil || d.completed == nil {
			continue
		}
		c, ok := counts[e.id]
		if !ok {
			p, err := w.cachedProfile(ctx, e.id)
			if err != nil {
				return nil, err
			}
			c = p.Counts
			counts[e.id] = c
		}
		cols = append(cols, profile.Column{Label: e.label, Counts: c})
	}
	return cols, nil
}

func (w *work) cachedProfile(ctx context.Context, donorID string) (*profile.Profile, error) {
	e, ok, err := w.deps.Store.CachedProfile(ctx, w.state.source, donorID)
	if err != nil {
		return nil, fmt.Errorf("reading the cached profile of %s: %w", donorID, err)
	}
	if !ok || e.Outcome != persistence.OutcomeFound {
		return nil, fmt.Errorf("profile of %s missing from the cache", donorID)
	}
	p, err := profile.Parse(e.Body, donorID)
	if err != nil {
		return nil, fmt.Errorf("cached profile of %s: %w", donorID, err)
	}
	return p, nil
}

// cancel records the cancel and stops every task of the work on every member.
func (w *work) cancel(ctx actor.Context) *messages.WorkStatus {
	switch {
	case w.missing:
		return &messages.WorkStatus{Found: false, Idwork: w.id}
	case w.state.cancelled:
		return w.snapshot()
	case w.state.finished != nil:
		st := w.snapshot()
		st.Error = "work already finished: " + w.state.finished.Status
		return st
	}

	w.record(time.Now().UnixMilli(), &messages.Event{Kind: &messages.Event_Cancelled{Cancelled: &messages.WorkCancelled{}}})
	if !w.flush(ctx) {
		st := w.snapshot()
		st.Error = "could not record the cancel; try again"
		st.Retry = true
		return st
	}
	w.stopTasks(ctx)
	w.dispatched = map[string]dispatch{}
	w.log.Info("work cancelled")
	return w.snapshot()
}

// stopTasks tells every member to stop every task of this work at once.
func (w *work) stopTasks(ctx actor.Context) {
	w.refreshMembers()
	for _, addr := range w.members {
		ctx.Send(actor.NewPID(addr, TaskHostName), &messages.StopWorkTasks{Idwork: w.id})
	}
}

func (w *work) currentStatus() string {
	if w.missing {
		return ""
	}
	return w.state.status(w.running())
}

func (w *work) snapshot() *messages.WorkStatus {
	if w.missing {
		return &messages.WorkStatus{Found: false, Idwork: w.id}
	}
	st := w.state.snapshot(w.id, w.running(), w.meanGap())
	st.Member = w.deps.Member
	st.Problem = w.problem
	return st
}

// meanGap is the mean time between upstream requests under the stored limits.
func (w *work) meanGap() time.Duration {
	if time.Since(w.limitsAt) > 10*time.Second {
		w.limitsAt = time.Now()
		sctx, cancel := context.WithTimeout(context.Background(), time.Second)
		l, err := w.deps.Store.Limits(sctx)
		cancel()
		if err != nil {
			l = w.deps.DefaultLimits
		}
		w.limits = l
	}
	return (w.limits.MinInterval + w.limits.MaxInterval) / 2
}
