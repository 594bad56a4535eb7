package storetest

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/signalscrape/signalscrape/persistence"
)

// BenchAppend measures appends of one event each: one after another to a
// single work ("serial"), and from parallel goroutines each writing its own
// work ("parallel"). It reports appends per second.
func BenchAppend(b *testing.B, s persistence.Store) {
	var works atomic.Int64
	b.Run("serial", func(b *testing.B) {
		id := workID("bench-serial", int(works.Add(1)))
		mustCreate(b, s, id, "d1")
		seq := int64(1)
		for b.Loop() {
			mustAppend(b, s, id, seq, "", completed("d1"))
			seq++
		}
		reportRate(b)
	})
	b.Run("parallel", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			id := workID("bench-parallel", int(works.Add(1)))
			if err := s.CreateWork(context.Background(), newCreated(id, "d1")); err != nil {
				b.Errorf("CreateWork: %v", err)
				return
			}
			for seq := int64(1); pb.Next(); seq++ {
				if err := s.Append(context.Background(), id, seq, "", completed("d1")); err != nil {
					b.Errorf("Append: %v", err)
					return
				}
			}
		})
		reportRate(b)
	})
}

// reportRate reports the benchmark's appends per second.
func reportRate(b *testing.B) {
	if secs := b.Elapsed().Seconds(); secs > 0 {
		b.ReportMetric(float64(b.N)/secs, "appends/s")
	}
}
