package actors

import (
	"strconv"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/signalscrape/signalscrape/messages"
)

// taskRef is what the host remembers of a running task.
type taskRef struct {
	work  string
	epoch int64
	donor string
}

// taskHost runs on every member under TaskHostName and spawns the task
// actors that works send it, as its supervised children.
type taskHost struct {
	deps     *Deps
	children map[string]taskRef
	// closed is set once the tasks were handed back: new ones are refused.
	closed bool
}

// HandBack asks a member's task host, from the same member, to stop every
// task and to refuse new ones, because the member is shutting down. The
// host answers once the tasks have stopped; their works dispatch them again
// when the member leaves.
type HandBack struct{}

// NewTaskHostProps returns the props of a member's task host.
func NewTaskHostProps(deps *Deps) *actor.Props {
	decider := func(reason any) actor.Directive {
		deps.Logger.Error("task actor crashed; restarting it", "reason", reason)
		return actor.RestartDirective
	}
	return actor.PropsFromProducer(func() actor.Actor {
		return &taskHost{deps: deps, children: map[string]taskRef{}}
	}, actor.WithSupervisor(actor.NewOneForOneStrategy(3, time.Minute, decider)))
}

// Receive handles one message.
func (h *taskHost) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case *messages.StartTask:
		if !h.closed {
			h.start(ctx, msg)
		}
	case *HandBack:
		h.handBack(ctx)
	case *messages.StopWorkTasks:
		h.stopWork(ctx, msg)
	case *messages.ListWorkTasks:
		ctx.Respond(h.list(ctx, msg))
	case *messages.GetHostStats:
		ctx.Respond(&messages.HostStats{
			Member:       h.deps.Member,
			TasksRun:     h.deps.Stats.TasksRun.Load(),
			TasksRunning: int64(len(h.children)),
			PermitsHeld:  int64(h.deps.Permits.InFlight()),
		})
	case *actor.Terminated:
		delete(h.children, msg.Who.Id)
	}
}

// start spawns a task unless the same activation already runs one for the
// same donor (a repeated dispatch).
func (h *taskHost) start(ctx actor.Context, msg *messages.StartTask) {
	name := msg.Idwork + "/" + strconv.FormatInt(msg.Epoch, 10) + "/" + msg.Id
	pid, err := ctx.SpawnNamed(newTaskProps(h.deps, msg), name)
	if err != nil {
		return
	}
	h.children[pid.Id] = taskRef{work: msg.Idwork, epoch: msg.Epoch, donor: msg.Id}
	h.deps.Stats.TasksRun.Add(1)
}

func (h *taskHost) handBack(ctx actor.Context) {
	h.closed = true
	var stopped []*actor.Future
	for _, child := range ctx.Children() {
		stopped = append(stopped, ctx.StopFuture(child))
	}
	for _, f := range stopped {
		_ = f.Wait()
	}
	ctx.Respond(&HandBack{})
}

func (h *taskHost) stopWork(ctx actor.Context, msg *messages.StopWorkTasks) {
	for _, child := range ctx.Children() {
		ref, ok := h.children[child.Id]
		if ok && ref.work == msg.Idwork && (msg.Epoch == 0 || ref.epoch == msg.Epoch) {
			ctx.Stop(child)
		}
	}
}

func (h *taskHost) list(ctx actor.Context, msg *messages.ListWorkTasks) *messages.WorkTasks {
	out := &messages.WorkTasks{Address: ctx.ActorSystem().Address()}
	for _, ref := range h.children {
		if ref.work == msg.Idwork && ref.epoch == msg.Epoch {
			out.Ids = append(out.Ids, ref.donor)
		}
	}
	return out
}
