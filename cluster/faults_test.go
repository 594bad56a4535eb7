package cluster

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/signalscrape/signalscrape/actors"
	"github.com/signalscrape/signalscrape/messages"
	"github.com/signalscrape/signalscrape/persistence"
	"github.com/signalscrape/signalscrape/persistence/sqlite"
	"github.com/signalscrape/signalscrape/profile"
	"github.com/signalscrape/signalscrape/profile/fixtures"
	"github.com/signalscrape/signalscrape/source"
)

// resultFailingStore is a store whose writes of result matrices fail while
// broken is set, as on a full disk.
type resultFailingStore struct {
	persistence.Store
	broken atomic.Bool
	failed atomic.Int64
}

func (s *resultFailingStore) PutBlob(ctx context.Context, key, contentType string, data []byte) error {
	if strings.HasPrefix(key, "results/") && s.broken.Load() {
		s.failed.Add(1)
		return errors.New("no space left on device")
	}
	return s.Store.PutBlob(ctx, key, contentType, data)
}

// fixtureSource answers from the fixture profiles, as the site would.
type fixtureSource struct{ t testing.TB }

func (fixtureSource) Key() string { return "fixtures" }

func (s fixtureSource) Fetch(_ context.Context, donorID string) (source.Result, error) {
	return source.Result{Body: fixtures.Profile(s.t, donorID), URL: "fixture:" + donorID}, nil
}

func loopbackAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// TestResultWriteFailure runs a work on one node whose result write fails:
// the work reports the failure in its status while it retries, and finishes
// with the right matrix once the store takes writes again.
func TestResultWriteFailure(t *testing.T) {
	ctx := context.Background()
	sq, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer sq.Close()
	store := &resultFailingStore{Store: sq}
	store.broken.Store(true)
	n := startTestNode(t, store)
	defer n.Stop()

	ids := fixtures.IDs(t, 3)
	created := &messages.WorkCreated{Idwork: uuid.NewString(), Source: "fixtures", UploadBlob: "uploads/test.csv", Rows: 3}
	for _, id := range ids {
		created.Entries = append(created.Entries, &messages.Entry{Label: "L" + id, Id: id})
	}
	if err := n.SubmitWork(ctx, created, []byte("donor\n")); err != nil {
		t.Fatal(err)
	}

	st := waitWork(t, n, created.Idwork, func(st *messages.WorkStatus) bool { return st.Problem != "" })
	if persistence.Finished(st.Status) || st.ResultBlob != "" || !strings.Contains(st.Problem, "storing the result failed") {
		t.Fatalf("while the result cannot be written: status %q, result %q, problem %q", st.Status, st.ResultBlob, st.Problem)
	}
	store.broken.Store(false)

	st = waitWork(t, n, created.Idwork, func(st *messages.WorkStatus) bool { return persistence.Finished(st.Status) })
	if st.Status != persistence.StatusCompleted || st.Problem != "" || st.GetCounts().GetCompleted() != 3 || store.failed.Load() < 1 {
		t.Fatalf("after the store recovered: status %q, problem %q, counts %v, %d failed writes",
			st.Status, st.Problem, st.GetCounts(), store.failed.Load())
	}
	checkResult(t, sq, st.ResultBlob, ids)
}

func startTestNode(t *testing.T, store persistence.Store) *Node {
	t.Helper()
	n, err := Start(Config{
		NodeName: "solo", GossipAddr: loopbackAddr(t), ActorAddr: loopbackAddr(t), HTTPAddr: "127.0.0.1:1",
		Store: store, Source: fixtureSource{t}, Logger: slog.New(slog.DiscardHandler), FrameworkLevel: slog.LevelError,
		Actors: actors.Deps{
			DefaultLimits: persistence.Limits{MinInterval: time.Millisecond, MaxInterval: 2 * time.Millisecond, MaxConcurrency: 2},
			LeaseTTL:      2 * time.Second,
			RetryBase:     10 * time.Millisecond,
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// waitWork polls a work's status until cond holds, for at most 30 s.
func waitWork(t *testing.T, n *Node, id string, cond func(*messages.WorkStatus) bool) *messages.WorkStatus {
	t.Helper()
	var last *messages.WorkStatus
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		st, err := n.Status(context.Background(), id)
		if err == nil && st.Found {
			last = st
			if cond(st) {
				return st
			}
		}
	}
	t.Fatalf("work %s: condition not met in 30s; last status %v", id, last)
	return nil
}

// checkResult reads the stored matrix back: one column per id, holding the
// id's fixture counts.
func checkResult(t *testing.T, store persistence.Store, key string, ids []string) {
	t.Helper()
	data, _, err := store.Blob(context.Background(), key)
	if err != nil {
		t.Fatalf("reading the result %q: %v", key, err)
	}
	cols, err := profile.ReadMatrix(strings.NewReader(string(data)))
	if err != nil {
		t.Fatalf("reading the matrix: %v", err)
	}
	if len(cols) != len(ids) {
		t.Fatalf("%d columns, want one per id %v", len(cols), ids)
	}
	for i, id := range ids {
		p, err := profile.Parse(fixtures.Profile(t, id), id)
		if err != nil {
			t.Fatal(err)
		}
		if cols[i].Label != "L"+id || cols[i].Counts != p.Counts {
			t.Errorf("column %d: %q; want L%s with its fixture counts", i, cols[i].Label, id)
		}
	}
}
