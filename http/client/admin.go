package client

import (
	"context"
	"fmt"
	"net/http"
)

// Limits returns the politeness limits in force.
func (c *Client) Limits(ctx context.Context) (*Limits, error) {
	var out Limits
	if err := c.doJSON(ctx, http.MethodGet, "/admin/limits", nil, nil, &out); err != nil {
		return nil, fmt.Errorf("reading limits: %w", err)
	}
	return &out, nil
}

// SetLimits replaces the politeness limits cluster-wide and returns the
// limits now in force. Nonsense limits are an *APIError with StatusCode 400.
func (c *Client) SetLimits(ctx context.Context, l Limits) (*Limits, error) {
	var out Limits
	if err := c.doJSON(ctx, http.MethodPut, "/admin/limits", nil, l, &out); err != nil {
		return nil, fmt.Errorf("setting limits: %w", err)
	}
	return &out, nil
}

// Cluster describes the cluster's members and its token bucket.
func (c *Client) Cluster(ctx context.Context) (*ClusterInfo, error) {
	var out ClusterInfo
	if err := c.doJSON(ctx, http.MethodGet, "/admin/cluster", nil, nil, &out); err != nil {
		return nil, fmt.Errorf("reading cluster: %w", err)
	}
	return &out, nil
}
