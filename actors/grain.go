package actors

import (
	"errors"
	"fmt"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	pcluster "github.com/asynkron/protoactor-go/cluster"
)

// errNoActivation means the cluster could not name a member for a grain,
// usually because membership is still forming.
var errNoActivation = errors.New("no activation for grain")

// grainRequest sends msg to a grain and waits up to timeout for the answer.
// It keeps the framework's PID cache warm but uses none of its retry loop,
// whose timeouts log at error level and whose options leak between calls.
func grainRequest(c *pcluster.Cluster, identity, kind string, msg any, timeout time.Duration) (any, error) {
	pid, ok := c.PidCache.Get(identity, kind)
	if !ok {
		pid = c.Get(identity, kind)
		if pid == nil {
			return nil, fmt.Errorf("%s/%s: %w", kind, identity, errNoActivation)
		}
		c.PidCache.Set(identity, kind, pid)
	}

	res, err := c.ActorSystem.Root.RequestFuture(pid, msg, timeout).Result()
	if err != nil && !errors.Is(err, actor.ErrTimeout) {
		c.PidCache.Remove(identity, kind)
	}
	return res, err
}

// Request sends msg to a grain and waits for the answer, for callers outside
// the actors (the HTTP API, the recovery sweep). A dead letter means the
// cached activation is gone: the request is sent again, to the activation the
// cluster names now, a few times. Only idempotent messages may be sent this
// way, and a request that timed out may still have been processed.
func Request(c *pcluster.Cluster, identity, kind string, msg any, timeout time.Duration) (any, error) {
	var err error
	for attempt := range 4 {
		if attempt > 0 {
			time.Sleep(time.Duration(attempt) * 100 * time.Millisecond)
		}
		var res any
		res, err = grainRequest(c, identity, kind, msg, timeout)
		if err == nil || !(errors.Is(err, actor.ErrDeadLetter) || errors.Is(err, errNoActivation)) {
			return res, err
		}
	}
	return nil, err
}

// sendLater delivers msg to pid after d.
func sendLater(system *actor.ActorSystem, pid *actor.PID, d time.Duration, msg any) *time.Timer {
	return time.AfterFunc(d, func() { system.Root.Send(pid, msg) })
}
