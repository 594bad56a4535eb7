package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"os"
	"path/filepath"
	"strconv"
)

// UploadOptions are the optional fields of POST /upload; zero values leave
// the choice to the server.
type UploadOptions struct {
	// MaxTasks keeps only the first MaxTasks distinct ids; 0 keeps them all.
	MaxTasks int
	// IDColumn names the column holding the donor ids.
	IDColumn string
	// LabelColumn names the column holding the labels of the result.
	LabelColumn string
}

// errUploadDone unblocks the body writer once the server has answered.
var errUploadDone = errors.New("upload answered")

// UploadFile uploads the CSV file at path; see Upload.
func (c *Client) UploadFile(ctx context.Context, path string, opts UploadOptions) (*UploadResult, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("opening upload: %w", err)
	}
	defer f.Close()
	return c.Upload(ctx, filepath.Base(path), f, opts)
}

// Upload sends the CSV read from r, under the file name name, as a new work.
// The body is streamed: r is read while the request is being sent, never
// held in memory whole.
func (c *Client) Upload(ctx context.Context, name string, r io.Reader, opts UploadOptions) (*UploadResult, error) {
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	written := make(chan struct{})
	go func() {
		defer close(written)
		pw.CloseWithError(writeUpload(mw, name, r, opts))
	}()

	var out UploadResult
	err := c.postUpload(ctx, pr, mw.FormDataContentType(), &out)
	pr.CloseWithError(errUploadDone)
	<-written
	if err != nil {
		return nil, fmt.Errorf("uploading %s: %w", name, err)
	}
	return &out, nil
}

func (c *Client) postUpload(ctx context.Context, body io.Reader, contentType string, out *UploadResult) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint("/upload", nil), body)
	if err != nil {
		return fmt.Errorf("building request: %w", err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Accept", "application/json")
	return c.decode(req, out)
}

// writeUpload writes the form fields, then the file, then the closing
// boundary.
func writeUpload(mw *multipart.Writer, name string, r io.Reader, opts UploadOptions) error {
	fields := [][2]string{{"id_column", opts.IDColumn}, {"label_column", opts.LabelColumn}}
	if opts.MaxTasks > 0 {
		fields = append(fields, [2]string{"max_tasks", strconv.Itoa(opts.MaxTasks)})
	}
	for _, f := range fields {
		if f[1] == "" {
			continue
		}
		if err := mw.WriteField(f[0], f[1]); err != nil {
			return fmt.Errorf("writing field %s: %w", f[0], err)
		}
	}

	h := make(textproto.MIMEHeader)
	h.Set("Content-Disposition", multipart.FileContentDisposition("file", name))
	h.Set("Content-Type", "text/csv")
	part, err := mw.CreatePart(h)
	if err != nil {
		return fmt.Errorf("writing file header: %w", err)
	}
	if _, err := io.Copy(part, r); err != nil {
		return fmt.Errorf("reading upload: %w", err)
	}
	if err := mw.Close(); err != nil {
		return fmt.Errorf("closing form: %w", err)
	}
	return nil
}
