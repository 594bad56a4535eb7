package client

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
)

// Status returns the status of work id. An unknown work is an *APIError
// with StatusCode 404.
func (c *Client) Status(ctx context.Context, id string) (*Status, error) {
	var out Status
	if err := c.doJSON(ctx, http.MethodGet, workPath("/status/", id), nil, nil, &out); err != nil {
		return nil, fmt.Errorf("reading status of work %s: %w", id, err)
	}
	return &out, nil
}

// StatusRaw returns the status of work id as the server wrote it.
func (c *Client) StatusRaw(ctx context.Context, id string) (json.RawMessage, error) {
	var out json.RawMessage
	if err := c.doJSON(ctx, http.MethodGet, workPath("/status/", id), nil, nil, &out); err != nil {
		return nil, fmt.Errorf("reading status of work %s: %w", id, err)
	}
	return out, nil
}

// Download writes the result of work id to w in the given format, one of
// Formats(); an empty format asks for the server's default, the CSV matrix.
// An unfinished work is an *APIError with StatusCode 409.
func (c *Client) Download(ctx context.Context, id, format string, w io.Writer) error {
	var q url.Values
	if format != "" {
		q = url.Values{"format": {format}}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.endpoint(workPath("/download/", id), q), nil)
	if err != nil {
		return fmt.Errorf("building request: %w", err)
	}
	resp, err := c.send(req)
	if err != nil {
		return fmt.Errorf("downloading work %s: %w", id, err)
	}
	defer resp.Body.Close()
	if _, err := io.Copy(w, resp.Body); err != nil {
		return fmt.Errorf("downloading work %s: %w", id, err)
	}
	return nil
}

// Cancel stops work id and returns its status. Cancelling a cancelled work
// succeeds again; a work that had already finished otherwise is an
// *APIError with StatusCode 409.
func (c *Client) Cancel(ctx context.Context, id string) (*Status, error) {
	var out Status
	if err := c.doJSON(ctx, http.MethodPost, workPath("/cancel/", id), nil, nil, &out); err != nil {
		return nil, fmt.Errorf("cancelling work %s: %w", id, err)
	}
	return &out, nil
}

// WorksOptions page through the works list; zero values leave the choice to
// the server.
type WorksOptions struct {
	Limit  int
	Offset int
}

// Works lists works, newest first.
func (c *Client) Works(ctx context.Context, opts WorksOptions) (*WorkList, error) {
	q := url.Values{}
	if opts.Limit > 0 {
		q.Set("limit", strconv.Itoa(opts.Limit))
	}
	if opts.Offset > 0 {
		q.Set("offset", strconv.Itoa(opts.Offset))
	}
	var out WorkList
	if err := c.doJSON(ctx, http.MethodGet, "/works", q, nil, &out); err != nil {
		return nil, fmt.Errorf("listing works: %w", err)
	}
	return &out, nil
}
