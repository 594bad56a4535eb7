package actors

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	pcluster "github.com/asynkron/protoactor-go/cluster"

	"github.com/signalscrape/signalscrape/messages"
	"github.com/signalscrape/signalscrape/persistence"
	"github.com/signalscrape/signalscrape/persistence/sqlite"
)

// quiet is how long a test waits to see that no grant arrives; a grant that
// should not come would come within a few milliseconds.
const quiet = 250 * time.Millisecond

// testBucket is a TokenBucket grain run as a plain local actor on the
// embedded store, outside any cluster.
type testBucket struct {
	t      *testing.T
	system *actor.ActorSystem
	pid    *actor.PID
	n      int
}

func startBucket(t *testing.T, limits persistence.Limits) *testBucket {
	t.Helper()
	store, err := sqlite.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })

	deps := &Deps{
		Store:         store,
		Logger:        slog.New(slog.DiscardHandler),
		Member:        "solo",
		DefaultLimits: limits,
		LeaseTTL:      time.Second,
	}
	deps.WithDefaults()
	system := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
		return slog.New(slog.DiscardHandler)
	}))
	pid := system.Root.Spawn(NewBucketProps(deps))
	t.Cleanup(func() { _ = system.Root.StopFuture(pid).Wait() })
	system.Root.Send(pid, &pcluster.ClusterInit{})
	return &testBucket{t: t, system: system, pid: pid}
}

// acquire asks for a permit for donor on behalf of member and returns the
// channel its grant arrives on.
func (b *testBucket) acquire(member, donor string) (string, <-chan *messages.PermitGranted) {
	b.n++
	id := fmt.Sprintf("req-%d", b.n)
	return id, b.ask(&messages.AcquirePermit{RequestId: id, Member: member, Idwork: "w", Id: donor})
}

func (b *testBucket) ask(msg *messages.AcquirePermit) <-chan *messages.PermitGranted {
	f := b.system.Root.RequestFuture(b.pid, msg, 10*time.Second)
	out := make(chan *messages.PermitGranted, 1)
	go func() {
		res, err := f.Result()
		if g, ok := res.(*messages.PermitGranted); ok && err == nil {
			out <- g
		}
	}()
	return out
}

func (b *testBucket) call(msg any) any {
	b.t.Helper()
	res, err := b.system.Root.RequestFuture(b.pid, msg, 5*time.Second).Result()
	if err != nil {
		b.t.Fatalf("%T: %v", msg, err)
	}
	return res
}

func (b *testBucket) release(id string, throttleUntil time.Time) {
	b.t.Helper()
	msg := &messages.ReleasePermit{RequestId: id}
	if !throttleUntil.IsZero() {
		msg.ThrottleUntilUnixMs = throttleUntil.UnixMilli()
	}
	b.call(msg)
}

func (b *testBucket) info() *messages.BucketInfo {
	b.t.Helper()
	return b.call(&messages.GetBucket{}).(*messages.BucketInfo)
}

func waitGrant(t *testing.T, ch <-chan *messages.PermitGranted, what string) *messages.PermitGranted {
	t.Helper()
	select {
	case g := <-ch:
		return g
	case <-time.After(5 * time.Second):
		t.Fatalf("%s: no grant", what)
		return nil
	}
}

func noGrant(t *testing.T, ch <-chan *messages.PermitGranted, what string) {
	t.Helper()
	select {
	case g := <-ch:
		t.Fatalf("%s: granted %s, want it held back", what, g.RequestId)
	case <-time.After(quiet):
	}
}

func notBefore(g *messages.PermitGranted) time.Time { return time.Unix(0, g.NotBeforeUnixNano) }

func TestBucketSpacesStartsByTheGapAndHoldsTheCap(t *testing.T) {
	gap := 30 * time.Millisecond
	b := startBucket(t, persistence.Limits{MinInterval: gap, MaxInterval: gap, MaxConcurrency: 2})
	id1, c1 := b.acquire("m", "DO1")
	_, c2 := b.acquire("m", "DO2")
	_, c3 := b.acquire("m", "DO3")

	g1 := waitGrant(t, c1, "first")
	g2 := waitGrant(t, c2, "second")
	if d := notBefore(g2).Sub(notBefore(g1)); d < gap+StartWindow {
		t.Errorf("starts %s apart, want at least the gap %s plus the start window", d, gap)
	}
	noGrant(t, c3, "third while two are in flight")
	if got := b.info().InFlight; got != 2 {
		t.Errorf("in flight %d, want 2", got)
	}

	b.release(id1, time.Time{})
	g3 := waitGrant(t, c3, "third after a release")
	if d := notBefore(g3).Sub(notBefore(g2)); d < gap+StartWindow {
		t.Errorf("third start %s after the second, want at least %s", d, gap+StartWindow)
	}
}

func TestBucketWithoutGapGrantsUnspacedPermitsAtOnce(t *testing.T) {
	b := startBucket(t, persistence.Limits{MaxConcurrency: 3})
	// All three ask during the bucket's grace, so all are granted at its end.
	var chans []<-chan *messages.PermitGranted
	for i := range 3 {
		_, c := b.acquire("m", fmt.Sprintf("DO%d", i))
		chans = append(chans, c)
	}
	var grants []*messages.PermitGranted
	for i, c := range chans {
		grants = append(grants, waitGrant(t, c, fmt.Sprintf("grant %d", i)))
	}
	for i, g := range grants {
		if !g.Unspaced {
			t.Errorf("grant %d not marked unspaced under limits without a gap", i)
		}
		if d := notBefore(g).Sub(notBefore(grants[0])); d >= StartWindow {
			t.Errorf("grant %d starts %s after the first, want no spacing", i, d)
		}
	}

	b.call(&messages.SetBucketLimits{Limits: LimitsMessage(persistence.Limits{MinInterval: time.Millisecond, MaxInterval: time.Millisecond, MaxConcurrency: 4})})
	_, c := b.acquire("m", "DO9")
	if g := waitGrant(t, c, "grant under a gap"); g.Unspaced {
		t.Error("grant marked unspaced under a 1 ms gap")
	}
}

func TestBucketFirstGrantWaitsOutTheGrace(t *testing.T) {
	asked := time.Now()
	b := startBucket(t, persistence.Limits{MinInterval: 10 * time.Millisecond, MaxInterval: 10 * time.Millisecond, MaxConcurrency: 1})
	_, c := b.acquire("m", "DO1")
	g := waitGrant(t, c, "first")
	// grace is max(TTL/2, max interval) = 500 ms, so that holders of a
	// predecessor's leases can renew them before anything new starts.
	if d := notBefore(g).Sub(asked); d < 500*time.Millisecond {
		t.Errorf("first start %s after the bucket began, want after its 500ms grace", d)
	}
}

func TestBucketFetchesOneDonorAtATime(t *testing.T) {
	b := startBucket(t, persistence.Limits{MaxConcurrency: 4})
	id1, c1 := b.acquire("m", "DO1")
	_, twin := b.acquire("other", "DO1")
	_, c2 := b.acquire("m", "DO2")

	waitGrant(t, c1, "first DO1")
	waitGrant(t, c2, "DO2 behind the held-back twin")
	noGrant(t, twin, "a second request for DO1 while the first is in flight")

	b.release(id1, time.Time{})
	waitGrant(t, twin, "the twin after the first released")
}

func TestBucketThrottlePausesEveryGrant(t *testing.T) {
	b := startBucket(t, persistence.Limits{MaxConcurrency: 2})
	id1, c1 := b.acquire("m", "DO1")
	waitGrant(t, c1, "first")

	until := time.Now().Add(600 * time.Millisecond)
	b.release(id1, until)
	_, c2 := b.acquire("m", "DO2")
	g := waitGrant(t, c2, "after the throttle")
	if notBefore(g).Before(until.Truncate(time.Millisecond)) {
		t.Errorf("granted to start at %s, before the throttle ends at %s", notBefore(g), until)
	}
	if got := b.info().ThrottledUntilUnixMs; got != until.UnixMilli() {
		t.Errorf("throttled until %d, want %d", got, until.UnixMilli())
	}
}

func TestBucketRegrantsAMissedSlot(t *testing.T) {
	b := startBucket(t, persistence.Limits{MaxConcurrency: 1})
	id, c := b.acquire("m", "DO1")
	first := waitGrant(t, c, "first")

	// The holder asks again: its grant never arrived, and its slot passed.
	time.Sleep(time.Until(notBefore(first)) + 20*time.Millisecond)
	again := waitGrant(t, b.ask(&messages.AcquirePermit{RequestId: id, Member: "m", Idwork: "w", Id: "DO1"}), "repeat")
	if !notBefore(again).After(notBefore(first)) {
		t.Errorf("repeat grant starts at %s, want a new slot after %s", notBefore(again), notBefore(first))
	}
	if got := b.info().InFlight; got != 1 {
		t.Errorf("in flight %d after a repeat, want 1", got)
	}
}

func TestBucketReclaimsLeasesOfAGoneMember(t *testing.T) {
	b := startBucket(t, persistence.Limits{MaxConcurrency: 1})
	_, c1 := b.acquire("lost", "DO1")
	waitGrant(t, c1, "first")
	_, c2 := b.acquire("m", "DO2")
	noGrant(t, c2, "second while the lost member holds the only permit")

	b.system.Root.Send(b.pid, &messages.MemberGone{Member: "lost"})
	waitGrant(t, c2, "second after the member was declared gone")
}

func TestBucketExpiresLeasesNobodyRenews(t *testing.T) {
	b := startBucket(t, persistence.Limits{MaxConcurrency: 1})
	_, c1 := b.acquire("m", "DO1")
	waitGrant(t, c1, "first")

	// The second request is kept alive by asking again, as a holder's
	// client does; the first lease is never renewed and must expire.
	id2, c := b.acquire("m", "DO2")
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-c:
			if got := b.info().InFlight; got != 1 {
				t.Errorf("in flight %d, want 1", got)
			}
			return
		case <-time.After(100 * time.Millisecond):
			c = b.ask(&messages.AcquirePermit{RequestId: id2, Member: "m", Idwork: "w", Id: "DO2"})
		}
	}
	t.Fatal("the unrenewed lease never expired")
}

func TestBucketAdoptsLeasesItDidNotGrant(t *testing.T) {
	b := startBucket(t, persistence.Limits{MaxConcurrency: 2})
	// A predecessor granted two permits whose holders renew them here.
	b.call(&messages.RenewLeases{Member: "m", RequestIds: []string{"old-1", "old-2"}, Donors: map[string]string{"old-1": "DO8", "old-2": "DO9"}})
	if got := b.info().InFlight; got != 2 {
		t.Fatalf("in flight %d after adoption, want 2", got)
	}
	_, c := b.acquire("m", "DO1")
	noGrant(t, c, "a new request while adopted leases fill the cap")
	b.release("old-1", time.Time{})
	waitGrant(t, c, "after an adopted lease was released")
}

func TestBucketAppliesNewLimits(t *testing.T) {
	b := startBucket(t, persistence.Limits{MaxConcurrency: 1})
	_, c1 := b.acquire("m", "DO1")
	waitGrant(t, c1, "first")
	_, c2 := b.acquire("m", "DO2")
	noGrant(t, c2, "second at a cap of one")

	info := b.call(&messages.SetBucketLimits{Limits: LimitsMessage(persistence.Limits{MaxConcurrency: 2})}).(*messages.BucketInfo)
	if info.Limits.MaxConcurrency != 2 {
		t.Errorf("limits in force %+v, want a cap of 2", info.Limits)
	}
	waitGrant(t, c2, "second after the cap was raised")
}
