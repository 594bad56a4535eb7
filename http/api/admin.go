package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/signalscrape/signalscrape/persistence"
)

// Bounds of the politeness limits beyond which a PUT is nonsense.
const (
	maxIntervalLimit    = time.Hour
	maxConcurrencyLimit = 1000
)

// limitsJSON is the body of GET and PUT /admin/limits.
type limitsJSON struct {
	MinIntervalMS  int64 `json:"min_interval_ms"`
	MaxIntervalMS  int64 `json:"max_interval_ms"`
	MaxConcurrency int64 `json:"max_concurrency"`
}

// limitsPatch is a PUT body; a field left out keeps the limit in force.
type limitsPatch struct {
	MinIntervalMS  *int64 `json:"min_interval_ms"`
	MaxIntervalMS  *int64 `json:"max_interval_ms"`
	MaxConcurrency *int64 `json:"max_concurrency"`
}

func limitsBody(l persistence.Limits) limitsJSON {
	return limitsJSON{
		MinIntervalMS:  l.MinInterval.Milliseconds(),
		MaxIntervalMS:  l.MaxInterval.Milliseconds(),
		MaxConcurrency: int64(l.MaxConcurrency),
	}
}

// limits answers the limits in force.
func (s *server) limits(w http.ResponseWriter, r *http.Request) {
	l, err := s.backend.Limits(r.Context())
	if err != nil {
		s.fail(w, r, fmt.Errorf("reading limits: %w", err))
		return
	}
	writeJSON(w, http.StatusOK, limitsBody(l))
}

// setLimits changes the limits cluster-wide and answers the limits now in
// force.
func (s *server) setLimits(w http.ResponseWriter, r *http.Request) {
	patch, err := decodePatch(r.Body)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	current, err := s.backend.Limits(r.Context())
	if err != nil {
		s.fail(w, r, fmt.Errorf("reading limits: %w", err))
		return
	}
	next, err := patch.apply(limitsBody(current))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	applied, err := s.backend.SetLimits(r.Context(), next)
	if err != nil {
		s.fail(w, r, fmt.Errorf("setting limits: %w", err))
		return
	}
	s.log.Info("limits changed", "min_interval", applied.MinInterval, "max_interval", applied.MaxInterval,
		"max_concurrency", applied.MaxConcurrency)
	writeJSON(w, http.StatusOK, limitsBody(applied))
}

// decodePatch reads one JSON object with only the known fields.
func decodePatch(body io.Reader) (limitsPatch, error) {
	var p limitsPatch
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return p, err
		}
		return p, errorf(http.StatusBadRequest, "reading limits: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return p, errorf(http.StatusBadRequest, "reading limits: the body holds more than one JSON object")
	}
	return p, nil
}

// apply returns the limits l with the patch's fields, if they make sense.
func (p limitsPatch) apply(l limitsJSON) (persistence.Limits, error) {
	for _, f := range []struct {
		src *int64
		dst *int64
	}{
		{p.MinIntervalMS, &l.MinIntervalMS},
		{p.MaxIntervalMS, &l.MaxIntervalMS},
		{p.MaxConcurrency, &l.MaxConcurrency},
	} {
		if f.src != nil {
			*f.dst = *f.src
		}
	}
	if err := l.check(); err != nil {
		return persistence.Limits{}, err
	}
	return persistence.Limits{
		MinInterval:    time.Duration(l.MinIntervalMS) * time.Millisecond,
		MaxInterval:    time.Duration(l.MaxIntervalMS) * time.Millisecond,
		MaxConcurrency: int(l.MaxConcurrency),
	}, nil
}

func (l limitsJSON) check() error {
	maxMS := maxIntervalLimit.Milliseconds()
	switch {
	case l.MinIntervalMS < 0 || l.MaxIntervalMS < 0:
		return errorf(http.StatusBadRequest, "intervals must not be negative")
	case l.MinIntervalMS > l.MaxIntervalMS:
		return errorf(http.StatusBadRequest, "min_interval_ms (%d) is above max_interval_ms (%d)", l.MinIntervalMS, l.MaxIntervalMS)
	case l.MaxIntervalMS > maxMS:
		return errorf(http.StatusBadRequest, "max_interval_ms must be at most %d (one hour)", maxMS)
	case l.MaxConcurrency < 1 || l.MaxConcurrency > maxConcurrencyLimit:
		return errorf(http.StatusBadRequest, "max_concurrency must be from 1 to %d", maxConcurrencyLimit)
	}
	return nil
}

// cluster describes the members and the token bucket.
func (s *server) cluster(w http.ResponseWriter, r *http.Request) {
	info, err := s.backend.Cluster(r.Context())
	if err != nil {
		s.fail(w, r, fmt.Errorf("reading cluster: %w", err))
		return
	}
	if info.Members == nil {
		info.Members = []Member{}
	}
	writeJSON(w, http.StatusOK, info)
}
