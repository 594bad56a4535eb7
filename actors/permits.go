package actors

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	pcluster "github.com/asynkron/protoactor-go/cluster"
	"github.com/google/uuid"

	"github.com/signalscrape/signalscrape/messages"
)

// pollTimeout is how long one permit request waits for a grant before it is
// asked again; it also bounds how late a cancelled wait notices.
const pollTimeout = time.Second

// Lease is a permit for one upstream request. Lost is closed when the lease
// could not be renewed for its whole lifetime: the holder must give up the
// request, because the bucket may have handed the permit to somebody else.
//
// Unspaced is set when the limits ask for no gap between requests: the
// holder may start however late after NotBefore.
type Lease struct {
	ID        string
	Donor     string
	NotBefore time.Time
	Unspaced  bool
	lost      chan struct{}
	once      sync.Once
}

// Lost is closed when the lease can no longer be trusted.
func (l *Lease) Lost() <-chan struct{} { return l.lost }

func (l *Lease) markLost() { l.once.Do(func() { close(l.lost) }) }

// Permits is one member's client of the TokenBucket grain: it asks for
// permits, renews the leases its tasks hold and returns them. It is safe for
// concurrent use; Start and Stop bracket its renewal goroutine.
type Permits struct {
	cluster *pcluster.Cluster
	member  string
	ttl     time.Duration
	log     *slog.Logger

	mu     sync.Mutex
	held   map[string]*Lease
	lastOK time.Time

	stop chan struct{}
	done chan struct{}
}

// NewPermits returns a permit client for member.
func NewPermits(c *pcluster.Cluster, member string, ttl time.Duration, log *slog.Logger) *Permits {
	return &Permits{cluster: c, member: member, ttl: ttl, log: log, held: map[string]*Lease{}}
}

// Start launches the renewal goroutine.
func (p *Permits) Start() {
	p.stop = make(chan struct{})
	p.done = make(chan struct{})
	p.lastOK = time.Now()
	go p.renewLoop()
}

// Stop ends the renewal goroutine and waits for it.
func (p *Permits) Stop() {
	close(p.stop)
	<-p.done
}

// Acquire waits for a permit for one request of donorID in workID.
func (p *Permits) Acquire(ctx context.Context, workID, donorID string) (*Lease, error) {
	req := &messages.AcquirePermit{RequestId: uuid.NewString(), Member: p.member, Idwork: workID, Id: donorID}
	for {
		if err := ctx.Err(); err != nil {
			p.withdraw(req.RequestId)
			return nil, err
		}

		res, err := grainRequest(p.cluster, BucketIdentity, BucketKind, req, pollTimeout)
		if g, ok := res.(*messages.PermitGranted); ok && err == nil {
			return p.hold(g, donorID), nil
		}
		if err != nil && !errors.Is(err, actor.ErrTimeout) {
			p.log.Debug("asking for a permit", "err", err)
			sleepCtx(ctx, 200*time.Millisecond)
		}
	}
}

func (p *Permits) hold(g *messages.PermitGranted, donorID string) *Lease {
	l := &Lease{ID: g.RequestId, Donor: donorID, NotBefore: time.Unix(0, g.NotBeforeUnixNano), Unspaced: g.Unspaced, lost: make(chan struct{})}
	p.mu.Lock()
	p.held[l.ID] = l
	p.mu.Unlock()
	return l
}

// Release returns a lease with the outcome of its request, which feeds the
// bucket's circuit breaker; a non-zero throttleUntil pauses all grants until
// then, cluster-wide.
func (p *Permits) Release(l *Lease, throttleUntil time.Time, outcome messages.FetchOutcome) {
	p.mu.Lock()
	delete(p.held, l.ID)
	p.mu.Unlock()

	msg := &messages.ReleasePermit{RequestId: l.ID, Outcome: outcome}
	if !throttleUntil.IsZero() {
		msg.ThrottleUntilUnixMs = throttleUntil.UnixMilli()
	}
	p.send(msg)
}

// withdraw takes back a queued request; a grant that crossed it is returned.
func (p *Permits) withdraw(requestID string) {
	p.send(&messages.ReleasePermit{RequestId: requestID})
}

// send delivers a release, trying a few times; a release that is lost only
// costs the lease's lifetime.
func (p *Permits) send(msg *messages.ReleasePermit) {
	var err error
	for range 3 {
		if _, err = grainRequest(p.cluster, BucketIdentity, BucketKind, msg, pollTimeout); err == nil {
			return
		}
	}
	p.log.Debug("returning a permit", "request_id", msg.RequestId, "err", err)
}

// InFlight returns how many leases this member holds.
func (p *Permits) InFlight() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.held)
}

func (p *Permits) renewLoop() {
	defer close(p.done)
	t := time.NewTicker(p.ttl / 5)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
			p.renew()
		}
	}
}

// renew tells the bucket which leases this member still holds. When that has
// failed for a whole lease lifetime, every held lease is marked lost.
func (p *Permits) renew() {
	p.mu.Lock()
	msg := &messages.RenewLeases{Member: p.member, Donors: make(map[string]string, len(p.held))}
	for id, l := range p.held {
		msg.RequestIds = append(msg.RequestIds, id)
		msg.Donors[id] = l.Donor
	}
	p.mu.Unlock()

	if _, err := grainRequest(p.cluster, BucketIdentity, BucketKind, msg, p.ttl/5); err == nil {
		p.mu.Lock()
		p.lastOK = time.Now()
		p.mu.Unlock()
		return
	}

	p.mu.Lock()
	defer p.mu.Unlock()
	if time.Since(p.lastOK) < p.ttl {
		return
	}
	for _, l := range p.held {
		l.markLost()
	}
}

// errLeaseLost is the cause of a request abandoned because its lease was lost.
var errLeaseLost = errors.New("permit lease lost: the token bucket was unreachable")

// sleepCtx waits for d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
