package profile

import (
	"errors"
	"fmt"
	"io"
)

// ReadMatrix reads a matrix in the csv format of WriteMatrix back into its
// columns, checking the header cell "Type", the 96 channels in order and the
// counts.
//
// Labels are returned as they were written, with the "'" that neutralised a
// formula still in front: "'=x" may have been written for "=x" or for "'=x",
// so removing it would guess. Neutralising is idempotent, so writing the
// columns read here again, in any format, gives the same bytes as writing the
// original columns; a caller that needs the raw labels keeps them elsewhere.
func ReadMatrix(r io.Reader) ([]Column, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("reading matrix: %w", err)
	}
	sc := &recordScanner{data: data}
	header, err := sc.record()
	if errors.Is(err, io.EOF) {
		return nil, errors.New("reading matrix: empty input")
	}
	if err != nil {
		return nil, fmt.Errorf("reading matrix header: %w", err)
	}
	if header[0] != "Type" {
		return nil, fmt.Errorf("reading matrix: first header cell is %q, not Type", header[0])
	}
	cols := make([]Column, len(header)-1)
	for i := range cols {
		cols[i].Label = header[i+1]
	}
	if err := readRows(sc, cols); err != nil {
		return nil, fmt.Errorf("reading matrix: %w", err)
	}
	return cols, nil
}

// readRows fills the counts of cols from the 96 channel rows.
func readRows(sc *recordScanner, cols []Column) error {
	for i, ch := range Channels {
		rec, err := sc.record()
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("missing channels: got %d of %d", i, len(Channels))
		}
		if err != nil {
			return err
		}
		if len(rec) != len(cols)+1 {
			return fmt.Errorf("record %d has %d cells, want %d", sc.n, len(rec), len(cols)+1)
		}
		if rec[0] != ch {
			return fmt.Errorf("record %d: channel %q, want %s", sc.n, rec[0], ch)
		}
		for j := range cols {
			n, err := parseCount([]byte(rec[j+1]))
			if err != nil {
				return fmt.Errorf("record %d: %w", sc.n, err)
			}
			cols[j].Counts[i] = n
		}
	}
	if _, err := sc.record(); !errors.Is(err, io.EOF) {
		return fmt.Errorf("record %d: unexpected content after the %d channels", sc.n, len(Channels))
	}
	return nil
}

// recordScanner splits RFC 4180 CSV with LF line ends into records.
type recordScanner struct {
	data []byte
	pos  int
	n    int // number of the record last returned, from 1
}

// record returns the next record, or io.EOF at the end of the data.
func (s *recordScanner) record() ([]string, error) {
	if s.pos >= len(s.data) {
		return nil, io.EOF
	}
	s.n++
	var rec []string
	for {
		cell, err := s.cell()
		if err != nil {
			return nil, fmt.Errorf("record %d: %w", s.n, err)
		}
		rec = append(rec, cell)
		if s.pos >= len(s.data) {
			return rec, nil
		}
		s.pos++
		if s.data[s.pos-1] == '\n' {
			return rec, nil
		}
	}
}

// cell reads one cell and stops at the comma or LF after it, or at the end.
func (s *recordScanner) cell() (string, error) {
	if s.pos < len(s.data) && s.data[s.pos] == '"' {
		return s.quotedCell()
	}
	start := s.pos
	for s.pos < len(s.data) && s.data[s.pos] != ',' && s.data[s.pos] != '\n' {
		if s.data[s.pos] == '"' {
			return "", errors.New(`bare " in an unquoted cell`)
		}
		s.pos++
	}
	return string(s.data[start:s.pos]), nil
}

func (s *recordScanner) quotedCell() (string, error) {
	var out []byte
	s.pos++
	for s.pos < len(s.data) {
		c := s.data[s.pos]
		s.pos++
		if c != '"' {
			out = append(out, c)
			continue
		}
		if s.pos < len(s.data) && s.data[s.pos] == '"' {
			out = append(out, '"')
			s.pos++
			continue
		}
		if s.pos < len(s.data) && s.data[s.pos] != ',' && s.data[s.pos] != '\n' {
			return "", errors.New(`text after the closing " of a quoted cell`)
		}
		return string(out), nil
	}
	return "", errors.New("quoted cell not closed")
}
