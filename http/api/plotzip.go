package api

import (
	"archive/zip"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/signalscrape/signalscrape/messages"
	"github.com/signalscrape/signalscrape/profile/chart"
)

// formatPlots asks GET /download for a zip of the work's plots.
const formatPlots = "plots"

// maxZipNameLen bounds the part of a file name in the plots zip taken from a
// specimen's label.
const maxZipNameLen = 60

// servePlots writes a zip of a finished work's plots: one SVG per specimen,
// named by its place in the result and its label made safe, the mean
// profile, and plots.csv, which pairs each file with its label and donor.
// The zip is streamed as it is drawn, so an error after the first file can
// only cut it short.
func (s *server) servePlots(w http.ResponseWriter, r *http.Request, st *messages.WorkStatus) error {
	ctx := r.Context()
	scale, err := plotScale(r)
	if err != nil {
		return err
	}
	set, err := s.plotSet(ctx, st)
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "application/zip")
	h.Set("Content-Disposition", `attachment; filename="signalscrape-`+set.workID+`-plots.zip"`)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	if err := s.writePlotsZip(ctx, w, set, scale); err != nil {
		// The answer has begun: breaking the connection tells the client
		// that the zip is incomplete.
		s.log.Warn("plots zip cut short", "work_id", set.workID, "err", err)
		panic(http.ErrAbortHandler)
	}
	return nil
}

// writePlotsZip draws every plot of set into a zip written to w.
func (s *server) writePlotsZip(ctx context.Context, w io.Writer, set *plotSet, scale chart.Scale) error {
	zw := zip.NewWriter(w)
	names := zipNames(set)
	if err := s.addPlot(ctx, zw, "mean.svg", set.mean); err != nil {
		return err
	}
	for i, sp := range set.specimens {
		c := chart.ForProfile(sp.label, sp.donorID, sp.counts, scale)
		if err := s.addPlot(ctx, zw, names[i], c); err != nil {
			return err
		}
	}
	if err := addIndex(zw, set, names); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("closing plots zip: %w", err)
	}
	return nil
}

// zipNames returns the file name of each specimen's plot: its place in the
// result, zero-padded, then its label with everything but ASCII letters,
// digits, '-', '_' and '.' replaced by '_'. The place keeps names unique.
func zipNames(set *plotSet) []string {
	width := len(strconv.Itoa(len(set.specimens)))
	names := make([]string, len(set.specimens))
	for i, sp := range set.specimens {
		safe := strings.Map(func(r rune) rune {
			if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' {
				return r
			}
			return '_'
		}, sp.label)
		if len(safe) > maxZipNameLen {
			safe = safe[:maxZipNameLen]
		}
		names[i] = fmt.Sprintf("%0*d-%s.svg", width, i+1, safe)
	}
	return names
}

// addPlot draws c as SVG into a new file of zw.
func (s *server) addPlot(ctx context.Context, zw *zip.Writer, name string, c chart.Chart) error {
	data, err := s.draw(ctx, c, "svg", chart.Full)
	if err != nil {
		return err
	}
	f, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: time.Now()})
	if err != nil {
		return fmt.Errorf("adding %s to plots zip: %w", name, err)
	}
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("writing %s to plots zip: %w", name, err)
	}
	return nil
}

// addIndex writes plots.csv: file, label, donor_id and mutations of each
// specimen, cells neutralised as in every CSV the service writes.
func addIndex(zw *zip.Writer, set *plotSet, names []string) error {
	f, err := zw.CreateHeader(&zip.FileHeader{Name: "plots.csv", Method: zip.Deflate, Modified: time.Now()})
	if err != nil {
		return fmt.Errorf("adding plots.csv to plots zip: %w", err)
	}
	cw := csv.NewWriter(f)
	_ = cw.Write([]string{"file", "label", "donor_id", "mutations"})
	for i, sp := range set.specimens {
		_ = cw.Write([]string{names[i], neutralise(sp.label), neutralise(sp.donorID), strconv.FormatInt(sp.total(), 10)})
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("writing plots.csv: %w", err)
	}
	return nil
}
