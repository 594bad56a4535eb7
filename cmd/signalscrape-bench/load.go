package main

import (
	"io"
	"net/http"
	"slices"
	"sync"
	"time"
)

// loadResult is what a fixed-rate load measured.
type loadResult struct {
	latencies []time.Duration // of the answered requests, sorted
	errors    int
	rate      float64 // requests sent per second
}

// percentile returns the p-th percentile of the latencies (nearest rank).
func (r loadResult) percentile(p float64) time.Duration {
	if len(r.latencies) == 0 {
		return 0
	}
	i := int(p/100*float64(len(r.latencies))+0.5) - 1
	return r.latencies[min(max(i, 0), len(r.latencies)-1)]
}

// loadStatus sends GET url at rate per second for d, each request on its
// own goroutine so that a slow answer does not delay the next request.
func loadStatus(url string, rate int, d time.Duration) loadResult {
	hc := &http.Client{
		Timeout:   10 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 512},
	}
	var (
		mu  sync.Mutex
		wg  sync.WaitGroup
		res loadResult
	)
	interval := time.Second / time.Duration(rate)
	start := time.Now()
	sent := 0
	for ; time.Since(start) < d; sent++ {
		// Each request has its slot; after a stall the late ones go out at
		// once, so that the rate holds on average.
		if wait := time.Until(start.Add(time.Duration(sent) * interval)); wait > 0 {
			time.Sleep(wait)
		}
		wg.Go(func() {
			took, ok := getOnce(hc, url)
			mu.Lock()
			defer mu.Unlock()
			if ok {
				res.latencies = append(res.latencies, took)
			} else {
				res.errors++
			}
		})
	}
	res.rate = float64(sent) / time.Since(start).Seconds()
	wg.Wait()
	slices.Sort(res.latencies)
	return res
}

// getOnce reads url whole and reports how long that took and whether the
// answer was 200.
func getOnce(hc *http.Client, url string) (time.Duration, bool) {
	start := time.Now()
	resp, err := hc.Get(url)
	if err != nil {
		return 0, false
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return time.Since(start), err == nil && resp.StatusCode == http.StatusOK
}
