package main

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/signalscrape/signalscrape/http/client"
)

// pollEvery is how often a work's status is read while waiting for it.
const pollEvery = 20 * time.Millisecond

// workWait bounds how long any one work may take.
const workWait = 30 * time.Minute

// donorCSV is an upload in the PCAWG form, Donor_ID,_PATIENT: n rows of
// distinct made-up donors, numbered from first, each with its own specimen.
func donorCSV(first, n int) []byte {
	var b bytes.Buffer
	b.Grow(20 + n*20)
	b.WriteString("Donor_ID,_PATIENT\n")
	for i := first; i < first+n; i++ {
		fmt.Fprintf(&b, "SP%07d,DO%07d\n", i, i)
	}
	return b.Bytes()
}

// repeatedDonorCSV is an upload of rows rows that name the donors 1 to
// distinct over and over: past the first distinct rows, each row repeats an
// earlier one.
func repeatedDonorCSV(rows, distinct int) []byte {
	var b bytes.Buffer
	b.Grow(20 + rows*20)
	b.WriteString("Donor_ID,_PATIENT\n")
	for i := range rows {
		d := i%distinct + 1
		fmt.Fprintf(&b, "SP%07d,DO%07d\n", d, d)
	}
	return b.Bytes()
}

// upload sends body to nd as a new work.
func upload(nd *node, name string, body []byte) (*client.UploadResult, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	res, err := nd.client.Upload(ctx, name, bytes.NewReader(body), client.UploadOptions{})
	if err != nil {
		return nil, fmt.Errorf("uploading to %s: %w", nd.name, err)
	}
	return res, nil
}

// status reads a work's status from nd.
func status(nd *node, id string) (*client.Status, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return nd.client.Status(ctx, id)
}

// waitFor polls a work on nd until cond holds. Errors of single reads are
// ignored: a node may be busy or a member just killed.
func waitFor(nd *node, id string, cond func(*client.Status) bool) (*client.Status, error) {
	deadline := time.Now().Add(workWait)
	var last *client.Status
	for time.Now().Before(deadline) {
		st, err := status(nd, id)
		if err == nil {
			last = st
			if cond(st) {
				return st, nil
			}
			if st.Finished() && st.Status != client.StatusCompleted {
				return st, fmt.Errorf("work %s ended %s", id, st.Status)
			}
		}
		time.Sleep(pollEvery)
	}
	return last, fmt.Errorf("work %s: not in the awaited state within %s", id, workWait)
}

// resultReady holds once the work completed and its result exists.
func resultReady(st *client.Status) bool {
	return st.Finished() && st.DownloadURL != ""
}

// completedAtLeast holds once n tasks completed.
func completedAtLeast(n int64) func(*client.Status) bool {
	return func(st *client.Status) bool { return st.Counts.Completed >= n }
}

// checkClean fails unless the work completed every task.
func checkClean(st *client.Status) error {
	if st.Status != client.StatusCompleted || st.Counts.Completed != st.Total {
		return fmt.Errorf("work %s ended %s with %d of %d tasks completed", st.IDWork, st.Status, st.Counts.Completed, st.Total)
	}
	return nil
}

// timedRun uploads body to nd and waits until the result is ready; it
// returns the time from the start of the upload.
func timedRun(nd *node, name string, body []byte) (time.Duration, *client.Status, error) {
	start := time.Now()
	res, err := upload(nd, name, body)
	if err != nil {
		return 0, nil, err
	}
	st, err := waitFor(nd, res.IDWork, resultReady)
	if err != nil {
		return 0, st, err
	}
	return time.Since(start), st, checkClean(st)
}
