package api

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/signalscrape/signalscrape/messages"
	"github.com/signalscrape/signalscrape/persistence"
	"github.com/signalscrape/signalscrape/profile"
)

// Download formats besides the matrix formats of package profile.
const (
	formatCSV      = "csv"
	formatErrors   = "errors"
	formatManifest = "manifest"
)

// downloadFormats lists every ?format= of GET /download, csv first.
func downloadFormats() []string {
	return append(profile.Formats(), formatErrors, formatManifest, formatPlots)
}

// downloadQuery is what the client asked GET /download for.
type downloadQuery struct {
	format string
	// partial allows an unfinished work: its matrix is then built from the
	// donors completed so far.
	partial bool
}

// download serves a work's result in the asked-for format: a matrix, the
// failed ids, the manifest or the plots.
func (s *server) download(w http.ResponseWriter, r *http.Request) {
	q, st, err := s.downloadableWork(r)
	if err == nil {
		switch q.format {
		case formatErrors:
			err = serveErrors(w, st)
		case formatManifest:
			err = s.serveManifest(r.Context(), w, st)
		case formatPlots:
			err = s.servePlots(w, r, st)
		default:
			err = s.serveMatrix(r.Context(), w, st, q)
		}
	}
	if err != nil {
		s.fail(w, r, err)
	}
}

// downloadableWork checks the work id and the query, then finds the work and
// checks that it is finished, unless the query asks for a partial result.
func (s *server) downloadableWork(r *http.Request) (downloadQuery, *messages.WorkStatus, error) {
	id, err := workID(r)
	if err != nil {
		return downloadQuery{}, nil, err
	}
	q, err := parseDownloadQuery(r)
	if err != nil {
		return q, nil, err
	}
	st, err := s.findWork(r)
	if err != nil {
		return q, nil, err
	}
	if !q.partial && !persistence.Finished(st.GetStatus()) {
		return q, nil, errorf(http.StatusConflict,
			"work %s is not finished yet (status %s); add partial=1 for the donors done so far", id, st.GetStatus())
	}
	return q, st, nil
}

func parseDownloadQuery(r *http.Request) (downloadQuery, error) {
	v := r.URL.Query()
	q := downloadQuery{format: v.Get("format")}
	if q.format == "" {
		q.format = formatCSV
	}
	formats := downloadFormats()
	known := false
	for _, f := range formats {
		known = known || f == q.format
	}
	if !known {
		return q, errorf(http.StatusBadRequest, "unknown format %s: use one of %s",
			shown(q.format), strings.Join(formats, ", "))
	}
	if p := v.Get("partial"); p != "" {
		b, err := strconv.ParseBool(p)
		if err != nil {
			return q, errorf(http.StatusBadRequest, "partial must be 1 or 0, not %s", shown(p))
		}
		q.partial = b
	}
	return q, nil
}

// serveMatrix writes the work's matrix in a format of package profile: the
// stored result, or without one and with partial, the donors completed so
// far. The stored csv is served as it is.
func (s *server) serveMatrix(ctx context.Context, w http.ResponseWriter, st *messages.WorkStatus, q downloadQuery) error {
	name := "signalscrape-" + st.GetIdwork()
	var data []byte
	var err error
	switch {
	case st.GetResultBlob() != "" && q.format == formatCSV:
		data, err = s.storedResult(ctx, st)
	case st.GetResultBlob() != "":
		data, err = s.convertedResult(ctx, st, q.format)
	case q.partial:
		name += "-partial"
		data, err = s.partialResult(ctx, st.GetIdwork(), q.format)
	default:
		return errorf(http.StatusConflict, "work %s has no result (status %s)", st.GetIdwork(), st.GetStatus())
	}
	if err != nil {
		return err
	}
	attachment(w, profile.ContentType(q.format), name+matrixExtension(q.format), len(data))
	_, _ = w.Write(data)
	return nil
}

// matrixExtension names the file type of a matrix format.
func matrixExtension(format string) string {
	switch format {
	case "tsv":
		return ".tsv"
	case "sigprofiler":
		return ".txt"
	case "long":
		return ".long.csv"
	}
	return ".csv"
}

// storedResult reads the work's stored csv result.
func (s *server) storedResult(ctx context.Context, st *messages.WorkStatus) ([]byte, error) {
	data, _, err := s.backend.Store().Blob(ctx, st.GetResultBlob())
	if err != nil {
		return nil, fmt.Errorf("reading result of work %s: %w", st.GetIdwork(), err)
	}
	return data, nil
}

// convertedResult reads the work's stored csv result back into its columns
// and writes them in format. The labels keep the "'" that neutralised them,
// and WriteMatrix adds no second one.
func (s *server) convertedResult(ctx context.Context, st *messages.WorkStatus, format string) ([]byte, error) {
	data, err := s.storedResult(ctx, st)
	if err != nil {
		return nil, err
	}
	cols, err := profile.ReadMatrix(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("parsing result of work %s: %w", st.GetIdwork(), err)
	}
	return matrixBytes(st.GetIdwork(), format, cols)
}

func matrixBytes(workID, format string, cols []profile.Column) ([]byte, error) {
	var buf bytes.Buffer
	if err := profile.WriteMatrix(&buf, format, cols); err != nil {
		return nil, fmt.Errorf("writing result of work %s: %w", workID, err)
	}
	return buf.Bytes(), nil
}

// serveErrors writes the failed ids as CSV id,label,error,attempts.
func serveErrors(w http.ResponseWriter, st *messages.WorkStatus) error {
	var b strings.Builder
	cw := csv.NewWriter(&b)
	_ = cw.Write([]string{"id", "label", "error", "attempts"})
	for _, e := range st.GetErrors() {
		attempts := strconv.Itoa(int(e.GetAttempts()))
		_ = cw.Write([]string{neutralise(e.GetId()), neutralise(e.GetLabel()), neutralise(e.GetError()), attempts})
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("writing errors of work %s: %w", st.GetIdwork(), err)
	}
	attachment(w, "text/csv", "signalscrape-"+st.GetIdwork()+"-errors.csv", b.Len())
	_, _ = w.Write([]byte(b.String()))
	return nil
}

// neutralise keeps a spreadsheet from reading a cell as a formula.
func neutralise(cell string) string {
	if cell != "" && strings.ContainsRune("=+-@", rune(cell[0])) {
		return "'" + cell
	}
	return cell
}
