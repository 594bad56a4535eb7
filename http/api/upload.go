package api

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"unicode"

	"github.com/google/uuid"

	"github.com/signalscrape/signalscrape/http/upload"
	"github.com/signalscrape/signalscrape/messages"
)

// Limits of the upload form besides the file.
const (
	// formSlack is what the multipart framing and the small fields may add
	// to the file's bytes.
	formSlack = 64 << 10
	// maxFieldBytes bounds a form field other than the file.
	maxFieldBytes = 1 << 10
	// maxFilenameLen bounds the shown file name, in characters.
	maxFilenameLen = 128
)

// uploadAnswer is the body of the 202 answer to POST /upload.
type uploadAnswer struct {
	IDWork        string          `json:"idwork"`
	TasksEnqueued int             `json:"tasks_enqueued"`
	Rows          int64           `json:"rows"`
	Duplicates    int64           `json:"duplicates"`
	Rejected      []rejectionJSON `json:"rejected"`
	RejectedTotal int64           `json:"rejected_total"`
	StatusURL     string          `json:"status_url"`
	DownloadURL   string          `json:"download_url"`
}

type rejectionJSON struct {
	Row   int64  `json:"row"`
	Error string `json:"error"`
}

// upload takes a CSV of donors as a new work.
func (s *server) upload(w http.ResponseWriter, r *http.Request) {
	form, err := s.readUploadForm(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	created := newWork(form.result, s.backend.SourceKey(), form.filename)
	// Only the answer is kept past this point, so that a large upload's rows
	// can be collected while the new work reads them back.
	answer := answerUpload(created.Idwork, form.result)
	logged := []any{"work_id", created.Idwork, "tasks", form.result.Distinct,
		"rows", form.result.Rows, "rejected", form.result.RejectedTotal}
	if err := s.backend.SubmitWork(r.Context(), created, form.original.Bytes()); err != nil {
		s.fail(w, r, fmt.Errorf("submitting work %s: %w", answer.IDWork, err))
		return
	}
	s.log.Info("work accepted", logged...)
	writeJSON(w, http.StatusAccepted, answer)
}

// uploadForm is a read upload: the options, the file's bytes and name, and
// the parsed rows.
type uploadForm struct {
	fields   map[string]string
	filename string
	original bytes.Buffer
	result   *upload.Result
	parseErr error
	// late is set when an option came after the file, which must then be
	// parsed again.
	late bool
}

// readUploadForm reads the multipart form part by part. The file part goes
// through upload.Parse as it arrives while its bytes are kept for storage.
func (s *server) readUploadForm(w http.ResponseWriter, r *http.Request) (*uploadForm, error) {
	mr, err := s.multipartReader(w, r)
	if err != nil {
		return nil, err
	}
	form := &uploadForm{fields: map[string]string{}}
	for _, name := range optionFields {
		form.fields[name] = r.URL.Query().Get(name)
	}
	if err := s.readParts(mr, form); err != nil {
		return nil, err
	}
	return form, form.finish(s.maxUpload)
}

func (s *server) multipartReader(w http.ResponseWriter, r *http.Request) (*multipart.Reader, error) {
	mediaType, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mediaType != "multipart/form-data" {
		return nil, errorf(http.StatusUnsupportedMediaType,
			`expected a multipart/form-data body with the CSV in the field "file"`)
	}
	r.Body = http.MaxBytesReader(w, r.Body, s.maxUpload+formSlack)
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, errorf(http.StatusBadRequest, "reading the form: %v", err)
	}
	return mr, nil
}

// optionFields are the form fields (or query parameters) of an upload.
var optionFields = []string{"max_tasks", "id_column", "label_column"}

func (s *server) readParts(mr *multipart.Reader, form *uploadForm) error {
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return formError(err)
		}
		if err := s.readPart(part, form); err != nil {
			return err
		}
	}
}

func (s *server) readPart(part *multipart.Part, form *uploadForm) error {
	name := part.FormName()
	switch {
	case name == "file":
		return form.readFile(part, s.maxUpload)
	case isOption(name):
		value, err := readField(part)
		if err != nil {
			return err
		}
		form.fields[name] = value
		form.late = form.late || form.result != nil || form.parseErr != nil
		return nil
	}
	_, err := io.Copy(io.Discard, part)
	return formError(err)
}

func isOption(name string) bool {
	for _, o := range optionFields {
		if name == o {
			return true
		}
	}
	return false
}

// readField reads a small form field.
func readField(part *multipart.Part) (string, error) {
	value, err := io.ReadAll(io.LimitReader(part, maxFieldBytes+1))
	if err != nil {
		return "", formError(err)
	}
	if len(value) > maxFieldBytes {
		return "", errorf(http.StatusBadRequest, "form field %q is longer than %d bytes", part.FormName(), maxFieldBytes)
	}
	return strings.TrimSpace(string(value)), nil
}

// readFile parses the file part while keeping its bytes. An input error is
// kept, not returned, since a later option may still fix it.
func (f *uploadForm) readFile(part *multipart.Part, maxBytes int64) error {
	if f.result != nil || f.parseErr != nil {
		return errorf(http.StatusBadRequest, `the form has more than one "file" field`)
	}
	f.filename = displayName(part.FileName())
	opts, err := f.options(maxBytes)
	if err != nil {
		return err
	}
	f.result, f.parseErr = upload.Parse(io.TeeReader(part, &f.original), opts)
	var ie *upload.InputError
	if f.parseErr != nil && !errors.As(f.parseErr, &ie) {
		return formError(f.parseErr)
	}
	if f.parseErr != nil {
		rest := io.LimitReader(part, maxBytes+1-int64(f.original.Len()))
		if _, err := io.Copy(&f.original, rest); err != nil {
			return formError(err)
		}
		if int64(f.original.Len()) > maxBytes {
			return fmt.Errorf("upload is larger than %d bytes: %w", maxBytes, upload.ErrTooLarge)
		}
	}
	return nil
}

// finish parses the file again if an option came after it, and returns the
// file's problem, if any.
func (f *uploadForm) finish(maxBytes int64) error {
	if f.result == nil && f.parseErr == nil {
		return errorf(http.StatusBadRequest, `missing the form field "file" with the CSV`)
	}
	if f.late {
		opts, err := f.options(maxBytes)
		if err != nil {
			return err
		}
		f.result, f.parseErr = upload.Parse(bytes.NewReader(f.original.Bytes()), opts)
	}
	return f.parseErr
}

// options turns the fields into parser options.
func (f *uploadForm) options(maxBytes int64) (upload.Options, error) {
	opts := upload.Options{
		IDColumn:    f.fields["id_column"],
		LabelColumn: f.fields["label_column"],
		MaxBytes:    maxBytes,
	}
	if v := f.fields["max_tasks"]; v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return opts, errorf(http.StatusBadRequest, "max_tasks must be a whole number of 0 or more (0 keeps every id), not %q", v)
		}
		opts.MaxTasks = n
	}
	return opts, nil
}

// formError gives errors of reading the form their status: too large stays
// recognisable, the rest is a bad request.
func formError(err error) error {
	var mbe *http.MaxBytesError
	if err == nil || errors.As(err, &mbe) || errors.Is(err, upload.ErrTooLarge) {
		return err
	}
	return errorf(http.StatusBadRequest, "reading the form: %v", err)
}

// displayName cleans a client's file name for display: no directories, no
// control or formatting characters, valid UTF-8, at most maxFilenameLen
// characters. It never names a stored file.
func displayName(name string) string {
	name = strings.ToValidUTF8(name, "\uFFFD")
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return -1
		}
		return r
	}, name)
	if runes := []rune(name); len(runes) > maxFilenameLen {
		name = string(runes[:maxFilenameLen])
	}
	return strings.TrimSpace(name)
}

// newWork builds the first event of a work from a parsed upload.
func newWork(res *upload.Result, source, filename string) *messages.WorkCreated {
	id := uuid.NewString()
	created := &messages.WorkCreated{
		Idwork:     id,
		Entries:    make([]*messages.Entry, len(res.Entries)),
		Rows:       res.Rows,
		Duplicates: res.Duplicates,
		Rejected:   make([]*messages.Rejection, len(res.Rejected)),
		Source:     source,
		UploadBlob: "uploads/" + id + ".csv",
		Filename:   filename,
	}
	for i, e := range res.Entries {
		created.Entries[i] = &messages.Entry{Label: e.Label, Id: e.ID}
	}
	for i, rj := range res.Rejected {
		created.Rejected[i] = &messages.Rejection{Row: rj.Row, Error: rj.Error}
	}
	return created
}

func answerUpload(id string, res *upload.Result) uploadAnswer {
	a := uploadAnswer{
		IDWork:        id,
		TasksEnqueued: res.Distinct,
		Rows:          res.Rows,
		Duplicates:    res.Duplicates,
		Rejected:      make([]rejectionJSON, len(res.Rejected)),
		RejectedTotal: res.RejectedTotal,
		StatusURL:     "/status/" + id,
		DownloadURL:   "/download/" + id,
	}
	for i, rj := range res.Rejected {
		a.Rejected[i] = rejectionJSON{Row: rj.Row, Error: rj.Error}
	}
	return a
}
