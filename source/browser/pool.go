package browser

import (
	"context"
)

// lock takes the gate, or gives up when ctx ends.
func (s *Source) lock(ctx context.Context) error {
	select {
	case s.gate <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Source) unlock() { <-s.gate }

// lease returns the browser to fetch one page in, starting one when there is
// none. A browser that has served its pages, or died, takes no more
// fetches: lease waits until its fetches in flight have finished and it has
// stopped, then starts the next.
func (s *Source) lease(ctx context.Context) (*instance, error) {
	for {
		if err := s.lock(ctx); err != nil {
			return nil, err
		}
		if s.closed {
			s.unlock()
			return nil, errClosed
		}
		inst := s.inst
		if inst != nil && !inst.retired && inst.dead() {
			s.logger.Warn("browser died; restarting it", "pages", inst.pages)
			inst.retired = true
			if inst.leases == 0 {
				s.unlock()
				s.retire(inst)
				continue
			}
		}
		if inst != nil && inst.retired {
			s.unlock()
			select {
			case <-inst.stopped:
				continue
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		if inst == nil {
			var err error
			if inst, err = s.start(ctx); err != nil {
				s.unlock()
				return nil, err
			}
			s.inst = inst
		}
		inst.leases++
		inst.pages++
		if inst.pages >= s.cfg.RestartAfter {
			inst.retired = true
		}
		s.unlock()
		return inst, nil
	}
}

// release ends a fetch in inst. The last fetch of a retired browser stops
// it; overMemory retires it first.
func (s *Source) release(inst *instance, overMemory bool) {
	s.gate <- struct{}{}
	inst.leases--
	if overMemory {
		inst.retired = true
	}
	last := inst.retired && inst.leases == 0
	s.unlock()
	if last {
		s.retire(inst)
	}
}

// retire stops a retired browser with no fetch in flight, and only then
// lets lease start the next one.
func (s *Source) retire(inst *instance) {
	s.logger.Info("restarting browser", "pages", inst.pages)
	inst.stop()
	s.gate <- struct{}{}
	if s.inst == inst {
		s.inst = nil
		s.restarts.Add(1)
	}
	s.unlock()
	inst.markStopped()
}
