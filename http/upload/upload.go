// Package upload reads the CSV files users upload: it finds the delimiter,
// the encoding and the id and label columns, checks every row and returns
// the accepted entries with the reasons for the rejected rows. It reads the
// file as a stream and keeps only the entries, the sets needed to find
// duplicates and at most MaxRejections rejections.
package upload

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
)

// MaxRejections is how many rejections a Result keeps; RejectedTotal counts
// the rest too.
const MaxRejections = 1000

// Options choose the columns and bound the upload. The zero value finds the
// columns by their names and sets no limit.
type Options struct {
	// IDColumn and LabelColumn name header cells (exactly, or else ignoring
	// case); when either is set the first row is the header.
	IDColumn, LabelColumn string
	// MaxTasks keeps only the first MaxTasks distinct ids; zero or less
	// keeps them all.
	MaxTasks int
	// MaxBytes fails the read with ErrTooLarge past this many bytes; zero or
	// less sets no limit.
	MaxBytes int64
}

// Entry is one accepted row: the label of its result column and the donor id
// to fetch.
type Entry struct {
	Label, ID string
}

// Rejection is a row left out, with the reason. Row is the line of the file
// on which the row starts, counting from 1 (the header, if any, is row 1).
type Rejection struct {
	Row   int64
	Error string
}

// Result is what an upload holds.
type Result struct {
	// Entries are the accepted rows in file order, one per distinct
	// (label, id) pair. An id may appear under several labels; it is
	// fetched once.
	Entries []Entry
	// Distinct counts the distinct ids among Entries.
	Distinct int
	// Rows counts the data rows read: every non-blank row after the
	// header, whether accepted, rejected, a duplicate or beyond MaxTasks.
	Rows int64
	// Duplicates counts the valid rows whose id an earlier accepted row
	// already had: both exact repeats of a (label, id) pair, which add no
	// entry, and the same id under a new label, which adds one. So Rows =
	// Distinct + Duplicates + RejectedTotal + rows dropped by MaxTasks.
	Duplicates int64
	// Rejected holds the first MaxRejections rejections in file order.
	Rejected []Rejection
	// RejectedTotal counts every rejected row.
	RejectedTotal int64
}

// Parse reads an uploaded CSV file from r.
//
// The delimiter is ',', ';', tab or '|', whichever the first rows use
// consistently. Lines end in LF, CRLF or CR; quoted cells follow RFC 4180
// and may hold delimiters and line breaks. A UTF-8 byte order mark is dropped; lines
// that are not valid UTF-8 are read as Latin-1. Cells are trimmed of
// surrounding spaces; blank rows are skipped.
//
// Columns: with IDColumn or LabelColumn set, the first row is a header that
// must have them. Otherwise a header is recognised by the names in idNames
// and labelNames ("Donor_ID,_PATIENT" gives id _PATIENT and label Donor_ID);
// a file of one column is its own label, and its first cell is a header when
// it is not a plausible id, has no digit, or names a donor, patient, sample,
// specimen or label. An empty label cell takes the id as label.
//
// A row is rejected when it has too few cells, its id fails IDProblem, its
// label is longer than MaxLabelLen or holds control characters, its label
// already names another id, or it is malformed CSV. Whole-file problems are
// an *InputError; too many bytes is ErrTooLarge; read failures are wrapped.
func Parse(r io.Reader, opts Options) (*Result, error) {
	lr := &limitReader{r: r, max: opts.MaxBytes}
	br := bufio.NewReaderSize(lr, 64<<10)
	if err := skipBOM(br); err != nil {
		return nil, readError(err)
	}
	sample, err := br.Peek(br.Size())
	if err != nil && err != io.EOF {
		return nil, readError(err)
	}
	if len(sample) == 0 {
		return nil, inputErrorf("the file is empty")
	}
	if problem := binaryProblem(sample); problem != "" {
		return nil, &InputError{Msg: problem}
	}

	cr := csv.NewReader(&lineDecoder{br: br})
	cr.Comma = sniffDelimiter(sample, err == io.EOF)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	p := &parser{opts: opts, cr: cr, res: &Result{}, ids: map[string]struct{}{}, labels: map[string]string{}}
	return p.run()
}

// parser holds the state of one Parse.
type parser struct {
	opts Options
	cr   *csv.Reader
	cols columns
	res  *Result
	// ids holds the accepted ids; labels maps each accepted label to its id.
	ids    map[string]struct{}
	labels map[string]string
}

func (p *parser) run() (*Result, error) {
	first, row, err := p.next()
	var pe *csv.ParseError
	switch {
	case err == io.EOF:
		return nil, inputErrorf("the file has only blank lines")
	case errors.As(err, &pe):
		return nil, inputErrorf("the file is not valid CSV: line %d: %v", pe.StartLine, pe.Err)
	case err != nil:
		return nil, err
	}
	hasHeader, err := p.findColumns(first)
	if err != nil {
		return nil, err
	}
	if !hasHeader {
		p.add(first, row)
	}
	if err := p.readRows(); err != nil {
		return nil, err
	}
	return p.result(hasHeader)
}

// findColumns sets the columns from the first row and reports whether that
// row is a header.
func (p *parser) findColumns(first []string) (bool, error) {
	var err error
	switch {
	case p.opts.IDColumn != "" || p.opts.LabelColumn != "":
		p.cols, err = namedColumns(first, p.opts)
		return true, err
	case len(first) == 1:
		p.cols = columns{}
		return singleHeader(first[0]), nil
	default:
		p.cols, err = guessColumns(first)
		return true, err
	}
}

func (p *parser) readRows() error {
	for {
		rec, row, err := p.next()
		if err == io.EOF {
			return nil
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			p.res.Rows++
			p.reject(row, "malformed CSV: "+pe.Err.Error())
			continue
		}
		if err != nil {
			return err
		}
		p.add(rec, row)
	}
}

// next returns the next non-blank record, trimmed, and the line it starts
// on. A malformed record comes as a *csv.ParseError, the end as io.EOF.
func (p *parser) next() ([]string, int64, error) {
	for {
		rec, err := p.cr.Read()
		var pe *csv.ParseError
		switch {
		case err == io.EOF:
			return nil, 0, err
		case errors.As(err, &pe):
			return nil, int64(pe.StartLine), err
		case err != nil:
			return nil, 0, readError(err)
		}
		if trim(rec) {
			line, _ := p.cr.FieldPos(0)
			return rec, int64(line), nil
		}
	}
}

// trim trims every cell and reports whether any is left non-empty.
func trim(rec []string) bool {
	nonBlank := false
	for i, c := range rec {
		rec[i] = strings.TrimSpace(c)
		nonBlank = nonBlank || rec[i] != ""
	}
	return nonBlank
}

// add takes one data row.
func (p *parser) add(rec []string, row int64) {
	p.res.Rows++
	if len(rec) < p.cols.width() {
		p.reject(row, fmt.Sprintf("row has %d cells; %d are needed", len(rec), p.cols.width()))
		return
	}
	id, label := rec[p.cols.id], rec[p.cols.label]
	if label == "" {
		label = id
	}
	if problem := IDProblem(id); problem != "" {
		p.reject(row, problem)
		return
	}
	if problem := labelProblem(label); problem != "" {
		p.reject(row, problem)
		return
	}
	p.accept(id, label, row)
}

// accept counts a valid row and adds its entry unless it repeats one.
func (p *parser) accept(id, label string, row int64) {
	if owner, ok := p.labels[label]; ok {
		if owner == id {
			p.res.Duplicates++
		} else {
			p.reject(row, fmt.Sprintf("label %s already names the id %s", show(label), show(owner)))
		}
		return
	}
	if _, ok := p.ids[id]; ok {
		p.res.Duplicates++
	} else if p.opts.MaxTasks > 0 && p.res.Distinct >= p.opts.MaxTasks {
		return
	} else {
		id = strings.Clone(id)
		p.ids[id] = struct{}{}
		p.res.Distinct++
	}
	label = strings.Clone(label)
	p.labels[label] = id
	p.res.Entries = append(p.res.Entries, Entry{Label: label, ID: id})
}

func (p *parser) reject(row int64, reason string) {
	p.res.RejectedTotal++
	if len(p.res.Rejected) < MaxRejections {
		p.res.Rejected = append(p.res.Rejected, Rejection{Row: row, Error: reason})
	}
}

// result checks that the file held something to fetch.
func (p *parser) result(hasHeader bool) (*Result, error) {
	res := p.res
	if res.Rows == 0 && hasHeader {
		return nil, inputErrorf("the file has a header but no data rows")
	}
	if len(res.Entries) == 0 {
		first := res.Rejected[0]
		return nil, inputErrorf("no row was accepted: %d of %d rows were rejected; row %d: %s",
			res.RejectedTotal, res.Rows, first.Row, first.Error)
	}
	return res, nil
}

// readError keeps InputError and ErrTooLarge recognisable and wraps the rest.
func readError(err error) error {
	var ie *InputError
	if errors.As(err, &ie) || errors.Is(err, ErrTooLarge) {
		return err
	}
	return fmt.Errorf("reading upload: %w", err)
}
