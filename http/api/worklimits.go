package api

import (
	"context"
	"fmt"
	"time"

	"github.com/signalscrape/signalscrape/persistence"
)

// limitsChangeJSON is a change of the limits in a manifest: when it was made
// and the limits it set.
type limitsChangeJSON struct {
	At string `json:"at"`
	limitsJSON
}

// workLimits returns the limits in force when a work was created and their
// changes from then until the work finished or was cancelled, or until now
// while it runs. The list of changes is empty, not nil, when there were none.
func (s *server) workLimits(ctx context.Context, l *workLog) (limitsJSON, []limitsChangeJSON, error) {
	from, to := time.UnixMilli(l.createdAt), time.Now()
	if l.endedAt != 0 {
		to = time.UnixMilli(l.endedAt)
	}
	history, err := s.backend.Store().LimitsHistory(ctx, from, to)
	if err != nil {
		return limitsJSON{}, nil, fmt.Errorf("reading the limits history of work %s: %w", l.created.GetIdwork(), err)
	}
	initial, later := s.limitsInForce(from, history)
	changes := make([]limitsChangeJSON, len(later))
	for i, c := range later {
		changes[i] = limitsChangeJSON{At: timestamp(c.At.UnixMilli()), limitsJSON: limitsBody(c.Limits)}
	}
	return limitsBody(initial), changes, nil
}

// limitsInForce splits a history that starts at from into the limits in
// force at from and the changes after it. When no change was stored by
// from, the node's initial limits were in force. (A cluster whose members
// were started with different flags ran under those of the member hosting
// the token bucket until the first change; this names the asked member's.)
func (s *server) limitsInForce(from time.Time, history []persistence.LimitsChange) (
	persistence.Limits, []persistence.LimitsChange,
) {
	if len(history) > 0 && !history[0].At.After(from) {
		return history[0].Limits, history[1:]
	}
	return s.backend.InitialLimits(), history
}
