package client

import "time"

// The states of a work, as Status.Status and WorkSummary.Status name them.
const (
	StatusPending             = "pending"
	StatusRunning             = "running"
	StatusCompleted           = "completed"
	StatusCompletedWithErrors = "completed_with_errors"
	StatusFailed              = "failed"
	StatusCancelled           = "cancelled"
)

// Finished reports whether a work in state status will change no more.
func Finished(status string) bool {
	switch status {
	case StatusCompleted, StatusCompletedWithErrors, StatusFailed, StatusCancelled:
		return true
	}
	return false
}

// The result formats GET /download/{idwork} offers through ?format=.
const (
	FormatCSV         = "csv"
	FormatTSV         = "tsv"
	FormatSigProfiler = "sigprofiler"
	FormatLong        = "long"
	FormatErrors      = "errors"
	FormatManifest    = "manifest"
	// FormatPlots is a zip of SVG plots: one per specimen, the mean profile
	// and an index, plots.csv.
	FormatPlots = "plots"
)

// Formats returns the names of the result formats, FormatCSV first.
func Formats() []string {
	return []string{FormatCSV, FormatTSV, FormatSigProfiler, FormatLong, FormatErrors, FormatManifest, FormatPlots}
}

// UploadResult is the body of the 202 answer to POST /upload.
type UploadResult struct {
	// IDWork is the new work's id, a lowercase UUID.
	IDWork string `json:"idwork"`
	// TasksEnqueued counts the distinct ids the work will fetch.
	TasksEnqueued int64 `json:"tasks_enqueued"`
	// Rows counts the data rows read from the upload.
	Rows int64 `json:"rows"`
	// Duplicates counts the rows whose id was already seen.
	Duplicates int64 `json:"duplicates"`
	// Rejected lists the rows that were left out, and why.
	Rejected []Rejection `json:"rejected"`
	// StatusURL is where the work's status is read.
	StatusURL string `json:"status_url"`
	// DownloadURL is where the result will be downloaded.
	DownloadURL string `json:"download_url"`
}

// Rejection is one upload row left out of a work.
type Rejection struct {
	// Row is the row's number in the upload.
	Row int64 `json:"row"`
	// Error says why the row was left out.
	Error string `json:"error"`
}

// Status is the body of GET /status/{idwork} and of POST /cancel/{idwork}.
type Status struct {
	// IDWork is the work's id.
	IDWork string `json:"idwork"`
	// Status is one of the Status* constants.
	Status string `json:"status"`
	// Total counts the work's tasks, one per distinct id.
	Total int64 `json:"total"`
	// Counts splits Total by task state.
	Counts Counts `json:"counts"`
	// Percent is the share of finished tasks, from 0 to 100.
	Percent float64 `json:"percent"`
	// FromCache counts the tasks answered from the profile cache.
	FromCache int64 `json:"from_cache"`
	// Errors lists the failed tasks.
	Errors []TaskError `json:"errors"`
	// ETASeconds estimates the seconds left; zero when unknown or done.
	ETASeconds float64 `json:"eta_seconds"`
	// CreatedAt is when the work was accepted.
	CreatedAt time.Time `json:"created_at"`
	// UpdatedAt is when the work last changed.
	UpdatedAt time.Time `json:"updated_at"`
	// DownloadURL is set once the result exists.
	DownloadURL string `json:"download_url,omitempty"`
	// Member names the node hosting the work.
	Member string `json:"member,omitempty"`
	// UpstreamRequests counts the requests the work sent to the source.
	UpstreamRequests int64 `json:"upstream_requests"`
	// Source is the upstream source of the node that answered.
	Source *Source `json:"source,omitempty"`
}

// Source is a node's upstream source as the status shows it.
type Source struct {
	// Name names the source and its site.
	Name string `json:"name"`
	// Available is false when the source cannot fetch on that node.
	Available bool `json:"available"`
	// Problem says why not, and what to do.
	Problem string `json:"problem,omitempty"`
}

// Finished reports whether the work will change no more.
func (s *Status) Finished() bool {
	return Finished(s.Status)
}

// Counts splits a work's tasks by state.
type Counts struct {
	Pending   int64 `json:"pending"`
	Running   int64 `json:"running"`
	Completed int64 `json:"completed"`
	Failed    int64 `json:"failed"`
	Cancelled int64 `json:"cancelled"`
}

// TaskError is one failed task of a work.
type TaskError struct {
	// ID is the donor id that could not be fetched.
	ID string `json:"id"`
	// Label is the id's label in the upload.
	Label string `json:"label"`
	// Error says why the task failed.
	Error string `json:"error"`
	// Attempts counts the upstream requests the task made.
	Attempts int64 `json:"attempts"`
	// EvidenceURL is the screenshot or answer kept of the last failed step.
	EvidenceURL string `json:"evidence_url,omitempty"`
	// EvidenceHTMLURL is the HTML of the page that step failed on.
	EvidenceHTMLURL string `json:"evidence_html_url,omitempty"`
}

// WorkList is the body of GET /works.
type WorkList struct {
	Works []WorkSummary `json:"works"`
}

// WorkSummary is one work as GET /works lists it.
type WorkSummary struct {
	IDWork    string    `json:"idwork"`
	Status    string    `json:"status"`
	Total     int64     `json:"total"`
	Filename  string    `json:"filename"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Limits are the cluster-wide politeness limits of GET and PUT /admin/limits.
type Limits struct {
	// MinIntervalMS is the shortest gap between upstream requests.
	MinIntervalMS int64 `json:"min_interval_ms"`
	// MaxIntervalMS is the longest gap between upstream requests.
	MaxIntervalMS int64 `json:"max_interval_ms"`
	// MaxConcurrency caps the upstream requests in flight.
	MaxConcurrency int64 `json:"max_concurrency"`
}

// ClusterInfo is the body of GET /admin/cluster.
type ClusterInfo struct {
	Members     []Member    `json:"members"`
	TokenBucket TokenBucket `json:"token_bucket"`
}

// Member is one node of the cluster.
type Member struct {
	Name       string `json:"name"`
	GossipAddr string `json:"gossip_addr"`
	ActorAddr  string `json:"actor_addr"`
	HTTPAddr   string `json:"http_addr"`
	// Status is alive, suspect, dead or left.
	Status string `json:"status"`
	// TasksRun counts the tasks the member has run.
	TasksRun int64 `json:"tasks_run"`
}

// TokenBucket is the cluster's single grantor of upstream request permits.
type TokenBucket struct {
	// Member names the node hosting the bucket.
	Member string `json:"member"`
	// InFlight counts the permits granted and not yet returned.
	InFlight int64 `json:"in_flight"`
	// GrantedTotal counts every permit granted so far.
	GrantedTotal int64 `json:"granted_total"`
	// Queued counts the requests waiting for a permit.
	Queued int64 `json:"queued"`
	// Limits are the limits the bucket applies now.
	Limits Limits `json:"limits"`
}
