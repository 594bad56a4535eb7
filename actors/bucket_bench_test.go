package actors

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	pcluster "github.com/asynkron/protoactor-go/cluster"

	"github.com/signalscrape/signalscrape/messages"
	"github.com/signalscrape/signalscrape/persistence"
)

// benchStore is the little of a store the token bucket uses: fixed limits
// and a lock that is always free and never lost. Any other call panics.
type benchStore struct {
	persistence.Store
	limits persistence.Limits
}

func (s benchStore) Limits(context.Context) (persistence.Limits, error) { return s.limits, nil }

func (s benchStore) LockBucket(context.Context) (persistence.Lock, error) { return benchLock{}, nil }

type benchLock struct{}

func (benchLock) Lost() <-chan struct{} { return nil }

func (benchLock) Release(context.Context) error { return nil }

// BenchmarkPermitGrants measures the token bucket alone, in a local actor
// system without remote or cluster: permits granted and released per
// second with no gap and a cap of 64, by one holder at a time ("serial")
// and by many at once ("parallel"). The holders do not wait for their start
// times, so the figure is the bucket's own ceiling.
func BenchmarkPermitGrants(b *testing.B) {
	quiet := slog.New(slog.DiscardHandler)
	system := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return quiet }))
	defer system.Shutdown()
	pid := startBenchBucket(b, system, persistence.Limits{MaxConcurrency: 64})
	defer system.Root.Stop(pid)

	var requests atomic.Int64
	cycle := func() error {
		id := fmt.Sprintf("r%d", requests.Add(1))
		acq := &messages.AcquirePermit{RequestId: id, Member: "bench", Idwork: "w", Id: id}
		if _, err := system.Root.RequestFuture(pid, acq, 5*time.Second).Result(); err != nil {
			return fmt.Errorf("acquiring: %w", err)
		}
		if _, err := system.Root.RequestFuture(pid, &messages.ReleasePermit{RequestId: id}, 5*time.Second).Result(); err != nil {
			return fmt.Errorf("releasing: %w", err)
		}
		return nil
	}

	b.Run("serial", func(b *testing.B) {
		for b.Loop() {
			if err := cycle(); err != nil {
				b.Fatal(err)
			}
		}
		reportGrants(b)
	})
	b.Run("parallel", func(b *testing.B) {
		b.SetParallelism(16)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := cycle(); err != nil {
					b.Error(err)
					return
				}
			}
		})
		reportGrants(b)
	})
}

// startBenchBucket spawns a token bucket with the given limits and waits
// until it grants.
func startBenchBucket(b *testing.B, system *actor.ActorSystem, limits persistence.Limits) *actor.PID {
	b.Helper()
	deps := &Deps{
		Store:         benchStore{limits: limits},
		Logger:        slog.New(slog.DiscardHandler),
		Member:        "bench",
		DefaultLimits: limits,
		LeaseTTL:      time.Second,
	}
	pid := system.Root.Spawn(NewBucketProps(deps))
	system.Root.Send(pid, &pcluster.ClusterInit{})

	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		res, err := system.Root.RequestFuture(pid, &messages.GetBucket{}, time.Second).Result()
		if info, ok := res.(*messages.BucketInfo); err == nil && ok && info.Ready {
			return pid
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.Fatal("the token bucket did not become ready")
	return nil
}

// reportGrants reports the benchmark's permits per second.
func reportGrants(b *testing.B) {
	if secs := b.Elapsed().Seconds(); secs > 0 {
		b.ReportMetric(float64(b.N)/secs, "grants/s")
	}
}
