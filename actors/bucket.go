package actors

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	pcluster "github.com/asynkron/protoactor-go/cluster"

	"github.com/signalscrape/signalscrape/messages"
	"github.com/signalscrape/signalscrape/persistence"
)

// grantLead is how long before its start time a permit is sent, so that the
// holder has it in hand, and has checked the cache, when its turn comes.
const grantLead = 20 * time.Millisecond

// StartWindow is how late after its start time a holder may still begin its
// request; a holder that is later gives the permit back unused. Starts are
// spaced by the drawn gap, but never by less than the minimum interval plus
// this window, so two requests never begin closer than the minimum however
// late each is within its window, while the mean gap stays the one set.
// Limits without any gap (both intervals zero) need no window: their
// permits are unspaced and may start however late.
const StartWindow = 2 * time.Millisecond

// bucketTick is how often the bucket expires leases and checks its lock.
const bucketTick = 100 * time.Millisecond

// limitsRefresh is how often the bucket rereads the stored limits, in case a
// change message was lost.
const limitsRefresh = 2 * time.Second

type bucketTickMsg struct{}
type bucketWakeMsg struct{}

// waiter is a queued permit request.
type waiter struct {
	req     *messages.AcquirePermit
	sender  *actor.PID
	touched time.Time
}

// lease is a granted permit.
type lease struct {
	grant   *messages.PermitGranted
	member  string
	donor   string
	touched time.Time
}

// bucket is the TokenBucket grain. Only the activation that holds the store's
// bucket lock grants permits; another activation (the framework gives no
// single-activation guarantee) only queues requests until it gets the lock.
// A new holder first waits out a grace period in which the holders of its
// predecessor's leases renew them, so the cap and the gap hold across a
// hand-over.
type bucket struct {
	deps *Deps
	log  *slog.Logger

	lock      persistence.Lock
	lastTry   time.Time
	readyAt   time.Time
	limits    persistence.Limits
	limitsAt  time.Time
	queue     []*waiter
	queued    map[string]*waiter
	leases    map[string]*lease
	nextStart time.Time
	throttle  time.Time
	breaker   breaker
	granted   int64
	ticker    *time.Ticker
	wake      *time.Timer
	wakeAt    time.Time
	stopTick  chan struct{}
}

// NewBucketProps returns the props of the TokenBucket grain.
func NewBucketProps(deps *Deps) *actor.Props {
	return actor.PropsFromProducer(func() actor.Actor {
		return &bucket{
			deps:   deps,
			log:    deps.Logger.With("actor", "token_bucket"),
			queued: map[string]*waiter{},
			leases: map[string]*lease{},
		}
	})
}

// Receive handles one message.
func (b *bucket) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case *pcluster.ClusterInit:
		b.start(ctx)
	case *bucketTickMsg:
		b.tick(ctx)
	case *bucketWakeMsg:
		b.wakeAt = time.Time{}
		b.grant(ctx)
	case *messages.AcquirePermit:
		b.acquire(ctx, msg)
	case *messages.RenewLeases:
		b.renew(msg)
		ctx.Respond(&messages.RenewAck{})
	case *messages.ReleasePermit:
		b.release(msg)
		ctx.Respond(&messages.ReleaseAck{})
		b.grant(ctx)
	case *messages.MemberGone:
		b.memberGone(msg.Member)
		b.grant(ctx)
	case *messages.GetBucket:
		ctx.Respond(b.info())
	case *messages.SetBucketLimits:
		b.setLimits(LimitsFromMessage(msg.Limits))
		ctx.Respond(b.info())
		b.grant(ctx)
	case *actor.Stopping:
		b.stop()
	}
}

func (b *bucket) start(ctx actor.Context) {
	b.breaker = breaker{threshold: b.deps.BreakerFailures, cooldown: b.deps.BreakerCooldown}
	b.loadLimits()
	b.tryLock()

	self, system := ctx.Self(), ctx.ActorSystem()
	b.ticker = time.NewTicker(bucketTick)
	b.stopTick = make(chan struct{})
	go func(t *time.Ticker, stop chan struct{}) {
		for {
			select {
			case <-t.C:
				system.Root.Send(self, &bucketTickMsg{})
			case <-stop:
				return
			}
		}
	}(b.ticker, b.stopTick)
}

func (b *bucket) stop() {
	if b.ticker != nil {
		b.ticker.Stop()
		close(b.stopTick)
	}
	if b.wake != nil {
		b.wake.Stop()
	}
	if b.lock != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if err := b.lock.Release(ctx); err != nil {
			b.log.Warn("releasing the bucket lock", "err", err)
		}
		b.lock = nil
	}
}

// tryLock takes the store's bucket lock if nobody holds it, at most twice a
// second.
func (b *bucket) tryLock() {
	if b.lock != nil || time.Since(b.lastTry) < 500*time.Millisecond {
		return
	}
	b.lastTry = time.Now()

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	lock, err := b.deps.Store.LockBucket(ctx)
	if err != nil {
		b.log.Warn("taking the bucket lock", "err", err)
		return
	}
	if lock == nil {
		return
	}

	b.lock = lock
	grace := max(b.deps.LeaseTTL/2, b.limits.MaxInterval)
	b.readyAt = time.Now().Add(grace)
	b.nextStart = b.readyAt
	b.log.Info("token bucket active", "member", b.deps.Member, "grace", grace)
}

func (b *bucket) ready() bool {
	return b.lock != nil && !time.Now().Before(b.readyAt)
}

func (b *bucket) tick(ctx actor.Context) {
	if b.lock != nil {
		select {
		case <-b.lock.Lost():
			b.log.Warn("token bucket lost its lock; granting stops")
			b.lock = nil
		default:
		}
	}
	b.tryLock()
	if time.Since(b.limitsAt) > limitsRefresh {
		b.loadLimits()
	}

	b.expire()
	b.grant(ctx)
}

// expire drops leases and queued requests whose holders stopped renewing.
func (b *bucket) expire() {
	cutoff := time.Now().Add(-b.deps.LeaseTTL)
	for id, l := range b.leases {
		if l.touched.Before(cutoff) {
			delete(b.leases, id)
			b.log.Debug("lease expired", "request_id", id, "member", l.member)
		}
	}
	kept := b.queue[:0]
	for _, w := range b.queue {
		if w.touched.Before(cutoff) {
			delete(b.queued, w.req.RequestId)
			continue
		}
		kept = append(kept, w)
	}
	clear(b.queue[len(kept):])
	b.queue = kept
}

func (b *bucket) acquire(ctx actor.Context, req *messages.AcquirePermit) {
	now := time.Now()
	if l, ok := b.leases[req.RequestId]; ok {
		l.touched = now
		b.regrant(l, now)
		ctx.Respond(l.grant)
		return
	}
	if w, ok := b.queued[req.RequestId]; ok {
		w.sender, w.touched = ctx.Sender(), now
		b.grant(ctx)
		return
	}

	w := &waiter{req: req, sender: ctx.Sender(), touched: now}
	b.queue = append(b.queue, w)
	b.queued[req.RequestId] = w
	b.grant(ctx)
}

// grant hands out permits while the cap allows, spacing their start times by
// a random gap in [min, max] and never before a throttle ends.
func (b *bucket) grant(ctx actor.Context) {
	if !b.ready() {
		return
	}
	for len(b.leases) < b.breaker.capacity(b.limits.MaxConcurrency) {
		i := b.nextWaiter()
		if i < 0 {
			return
		}
		now := time.Now()
		start := later(now, b.earliest())
		if start.Sub(now) > grantLead {
			b.wakeBefore(ctx, start)
			return
		}

		w := b.queue[i]
		b.queue = append(b.queue[:i], b.queue[i+1:]...)
		delete(b.queued, w.req.RequestId)

		g := &messages.PermitGranted{
			RequestId:         w.req.RequestId,
			NotBeforeUnixNano: start.UnixNano(),
			TtlMs:             b.deps.LeaseTTL.Milliseconds(),
			Unspaced:          b.unspaced(),
		}
		b.leases[g.RequestId] = &lease{grant: g, member: w.req.Member, donor: w.req.Id, touched: now}
		b.nextStart = start.Add(b.spacing())
		b.granted++
		b.log.Debug("grant", "request_id", g.RequestId, "donor_id", w.req.Id, "start", start.Format("15:04:05.000000"))
		ctx.Send(w.sender, g)
	}
}

// regrant gives a lease whose grant never reached its holder (the holder
// asks again only then) a new start time, because its old slot has passed:
// starting late in an old slot could crowd the request that followed it.
func (b *bucket) regrant(l *lease, now time.Time) {
	if time.Unix(0, l.grant.NotBeforeUnixNano).After(now) {
		return
	}
	start := later(now, b.earliest())
	l.grant = &messages.PermitGranted{
		RequestId:         l.grant.RequestId,
		NotBeforeUnixNano: start.UnixNano(),
		TtlMs:             l.grant.TtlMs,
		Unspaced:          b.unspaced(),
	}
	b.nextStart = start.Add(b.spacing())
	b.log.Debug("regrant", "request_id", l.grant.RequestId, "start", start.Format("15:04:05.000000"))
}

// earliest is the earliest start the gap, a throttle and the circuit breaker
// allow.
func (b *bucket) earliest() time.Time {
	return later(b.nextStart, later(b.throttle, b.breaker.notBefore()))
}

// nextWaiter returns the index of the first queued request whose donor has
// no request in flight, or -1. Two works, or two activations of one work,
// may want the same donor at once: it is fetched by one of them at a time,
// and the other finds it in the cache.
func (b *bucket) nextWaiter() int {
	busy := make(map[string]bool, len(b.leases))
	for _, l := range b.leases {
		busy[l.donor] = true
	}
	for i, w := range b.queue {
		if !busy[w.req.Id] {
			return i
		}
	}
	return -1
}

// wakeBefore arranges a wake-up just before start, unless one is due sooner.
func (b *bucket) wakeBefore(ctx actor.Context, start time.Time) {
	at := start.Add(-grantLead)
	if !b.wakeAt.IsZero() && !b.wakeAt.After(at) {
		return
	}
	if b.wake != nil {
		b.wake.Stop()
	}
	b.wakeAt = at
	b.wake = sendLater(ctx.ActorSystem(), ctx.Self(), time.Until(at), &bucketWakeMsg{})
}

// spacing is the time from one start to the next: the drawn gap, or the
// minimum interval plus the start window when the gap is shorter.
func (b *bucket) spacing() time.Duration {
	if b.unspaced() {
		return b.gap()
	}
	return max(b.gap(), b.limits.MinInterval+StartWindow)
}

// unspaced tells whether the limits ask for no gap at all, so that starts
// need no window.
func (b *bucket) unspaced() bool {
	return b.limits.MinInterval == 0 && b.limits.MaxInterval == 0
}

func (b *bucket) gap() time.Duration {
	lo, hi := b.limits.MinInterval, b.limits.MaxInterval
	if hi <= lo {
		return lo
	}
	return lo + rand.N(hi-lo+1)
}

// renew keeps leases alive, and adopts leases it does not know: they were
// granted by a predecessor and their holders are still working.
func (b *bucket) renew(msg *messages.RenewLeases) {
	now := time.Now()
	for _, id := range msg.RequestIds {
		if l, ok := b.leases[id]; ok {
			l.touched = now
			continue
		}
		g := &messages.PermitGranted{RequestId: id, NotBeforeUnixNano: now.UnixNano(), TtlMs: b.deps.LeaseTTL.Milliseconds()}
		b.leases[id] = &lease{grant: g, member: msg.Member, donor: msg.Donors[id], touched: now}
		b.log.Debug("adopted lease", "request_id", id, "member", msg.Member)
	}
}

func (b *bucket) release(msg *messages.ReleasePermit) {
	delete(b.leases, msg.RequestId)
	if w, ok := b.queued[msg.RequestId]; ok {
		delete(b.queued, msg.RequestId)
		b.queue = removeWaiter(b.queue, w)
	}
	b.recordOutcome(msg.Outcome)
	if msg.ThrottleUntilUnixMs <= 0 {
		return
	}

	until := time.UnixMilli(msg.ThrottleUntilUnixMs)
	if until.After(b.throttle) {
		b.throttle = until
		b.log.Warn("site throttling: all grants paused", "until", until.Format(time.RFC3339))
	}
}

// recordOutcome feeds the circuit breaker with how the site answered.
func (b *bucket) recordOutcome(outcome messages.FetchOutcome) {
	opened, closed := b.breaker.record(outcome, time.Now())
	switch {
	case opened:
		b.log.Warn("site failing: circuit open, grants paused", "failures", b.breaker.failures,
			"until", b.breaker.until.Format(time.RFC3339))
	case closed:
		b.log.Info("site answering again: circuit closed")
	}
}

func (b *bucket) memberGone(member string) {
	for id, l := range b.leases {
		if l.member == member {
			delete(b.leases, id)
		}
	}
	kept := b.queue[:0]
	for _, w := range b.queue {
		if w.req.Member == member {
			delete(b.queued, w.req.RequestId)
			continue
		}
		kept = append(kept, w)
	}
	clear(b.queue[len(kept):])
	b.queue = kept
}

func (b *bucket) loadLimits() {
	b.limitsAt = time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()

	l, err := b.deps.Store.Limits(ctx)
	switch {
	case err == nil:
		b.setLimits(l)
	case b.limits.MaxConcurrency == 0:
		b.setLimits(b.deps.DefaultLimits)
	}
}

func (b *bucket) setLimits(l persistence.Limits) {
	if l == b.limits {
		return
	}
	old := b.limits
	b.limits = l
	if old.MaxConcurrency != 0 {
		b.log.Info("limits changed", "min_interval", l.MinInterval, "max_interval", l.MaxInterval, "max_concurrency", l.MaxConcurrency)
	}
	// A shorter gap applies to the next start at once.
	if limit := time.Now().Add(l.MaxInterval); b.nextStart.After(limit) && !b.readyAt.After(time.Now()) {
		b.nextStart = limit
	}
}

func (b *bucket) info() *messages.BucketInfo {
	return &messages.BucketInfo{
		Member:               b.deps.Member,
		InFlight:             int64(len(b.leases)),
		GrantedTotal:         b.granted,
		Queued:               int64(len(b.queue)),
		Limits:               LimitsMessage(b.limits),
		Ready:                b.ready(),
		ThrottledUntilUnixMs: b.throttle.UnixMilli(),
	}
}

func removeWaiter(q []*waiter, w *waiter) []*waiter {
	for i, x := range q {
		if x == w {
			return append(q[:i], q[i+1:]...)
		}
	}
	return q
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// LimitsMessage converts limits to their message form.
func LimitsMessage(l persistence.Limits) *messages.Limits {
	return &messages.Limits{
		MinIntervalMs:  l.MinInterval.Milliseconds(),
		MaxIntervalMs:  l.MaxInterval.Milliseconds(),
		MaxConcurrency: int64(l.MaxConcurrency),
	}
}

// LimitsFromMessage converts limits from their message form.
func LimitsFromMessage(m *messages.Limits) persistence.Limits {
	return persistence.Limits{
		MinInterval:    time.Duration(m.GetMinIntervalMs()) * time.Millisecond,
		MaxInterval:    time.Duration(m.GetMaxIntervalMs()) * time.Millisecond,
		MaxConcurrency: int(m.GetMaxConcurrency()),
	}
}
