// Package client talks to the signalscrape HTTP API of a running node: it
// uploads donor lists, follows and cancels works, downloads results and reads
// or changes the cluster's politeness limits.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// maxJSONBody bounds the size of a JSON answer the client will decode.
const maxJSONBody = 64 << 20

// Client calls one node's API. A Client is safe for concurrent use by
// several goroutines.
type Client struct {
	base       *url.URL
	httpClient *http.Client
	adminToken string
}

// Option changes how New builds a Client.
type Option func(*Client)

// WithHTTPClient makes the Client send its requests through hc instead of its
// own *http.Client.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) { c.httpClient = hc }
}

// WithAdminToken makes the Client send token as a bearer token on the
// /admin/* calls.
func WithAdminToken(token string) Option {
	return func(c *Client) { c.adminToken = token }
}

// New returns a Client for the node at baseURL, such as
// "http://127.0.0.1:8080". By default it connects within 10 seconds and waits
// up to a minute for the headers of an answer; bodies, which may be long
// downloads, are bounded only by the context given to each call.
func New(baseURL string, opts ...Option) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil {
		return nil, fmt.Errorf("parsing server URL: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("parsing server URL %q: want http://host:port or https://host:port", baseURL)
	}
	u.RawQuery, u.Fragment = "", ""
	c := &Client{base: u, httpClient: defaultHTTPClient()}
	for _, opt := range opts {
		opt(c)
	}
	return c, nil
}

func defaultHTTPClient() *http.Client {
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Client{Transport: &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dialer.DialContext,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: time.Minute,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConnsPerHost:   4,
	}}
}

// BaseURL returns the server address the Client was built with, without a
// trailing slash.
func (c *Client) BaseURL() string {
	return c.base.String()
}

// APIError is a non-2xx answer of the API.
type APIError struct {
	// StatusCode is the HTTP status of the answer.
	StatusCode int
	// Message is the "error" field of the JSON body, or the body's text, or
	// the status text when the body is empty.
	Message string
}

// Error describes the answer.
func (e *APIError) Error() string {
	return fmt.Sprintf("server answered %d: %s", e.StatusCode, e.Message)
}

// IsStatus reports whether err is, or wraps, an *APIError with the given
// HTTP status code.
func IsStatus(err error, code int) bool {
	var apiErr *APIError
	return errors.As(err, &apiErr) && apiErr.StatusCode == code
}

// errorBody is the JSON the API answers errors with.
type errorBody struct {
	Error string `json:"error"`
}

// readAPIError turns a non-2xx response into an *APIError.
func readAPIError(resp *http.Response) error {
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	msg := ""
	var body errorBody
	if json.Unmarshal(raw, &body) == nil && body.Error != "" {
		msg = body.Error
	} else {
		msg = strings.TrimSpace(string(raw))
	}
	if msg == "" {
		msg = http.StatusText(resp.StatusCode)
	}
	return &APIError{StatusCode: resp.StatusCode, Message: msg}
}

// endpoint builds the URL of path, already escaped, with query q.
func (c *Client) endpoint(path string, q url.Values) string {
	s := c.base.String() + path
	if len(q) > 0 {
		s += "?" + q.Encode()
	}
	return s
}

// workPath returns prefix followed by the escaped work id.
func workPath(prefix, id string) string {
	return prefix + url.PathEscape(id)
}

// send performs req and returns the response when its status is 2xx; any
// other answer is closed and returned as an *APIError.
func (c *Client) send(req *http.Request) (*http.Response, error) {
	if c.adminToken != "" && strings.HasPrefix(req.URL.Path, c.base.Path+"/admin/") {
		req.Header.Set("Authorization", "Bearer "+c.adminToken)
	}
	resp, err := c.httpClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("calling %s %s: %w", req.Method, req.URL.Path, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		defer resp.Body.Close()
		return nil, readAPIError(resp)
	}
	return resp, nil
}

// doJSON sends a request with an optional JSON body and decodes the JSON
// answer into out.
func (c *Client) doJSON(ctx context.Context, method, path string, q url.Values, in, out any) error {
	var body io.Reader
	if in != nil {
		raw, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encoding request: %w", err)
		}
		body = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.endpoint(path, q), body)
	if err != nil {
		return fmt.Errorf("building request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return c.decode(req, out)
}

// decode sends req and decodes its JSON answer into out.
func (c *Client) decode(req *http.Request, out any) error {
	resp, err := c.send(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxJSONBody)).Decode(out); err != nil {
		return fmt.Errorf("decoding answer of %s %s: %w", req.Method, req.URL.Path, err)
	}
	return nil
}
