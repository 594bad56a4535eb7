package profile

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Column is one column of the result matrix: a label and its 96 counts in
// the order of Channels.
type Column struct {
	Label  string
	Counts [96]int64
}

// Formats lists the formats WriteMatrix writes, the default first:
//
//   - csv: "Type,<label>,..." then one row "<channel>,<count>,..." per channel
//   - tsv: the same, separated by tabs
//   - sigprofiler: tsv whose first header cell is "MutationType"
//   - long: CSV "label,channel,count" with one row per label and channel
//
// Every line of every format ends in "\n", and the rows follow the order of
// Channels.
func Formats() []string {
	return []string{"csv", "tsv", "sigprofiler", "long"}
}

// ContentType returns the media type of a format, or "" for an unknown one.
// The empty format is csv.
func ContentType(format string) string {
	switch format {
	case "", "csv", "long":
		return "text/csv; charset=utf-8"
	case "tsv", "sigprofiler":
		return "text/tab-separated-values; charset=utf-8"
	default:
		return ""
	}
}

// WriteMatrix writes cols to w in format, one of Formats; the empty format is
// csv. A cell whose first character is '=', '+', '-' or '@' is written with a
// leading "'" so that spreadsheets do not run it as a formula. A cell that
// holds the separator, a double quote, CR or LF is quoted as RFC 4180 says,
// with the separator of the format; every other cell is written as it is.
func WriteMatrix(w io.Writer, format string, cols []Column) error {
	var err error
	switch format {
	case "", "csv":
		err = writeWide(w, ',', "Type", cols)
	case "tsv":
		err = writeWide(w, '\t', "Type", cols)
	case "sigprofiler":
		err = writeWide(w, '\t', "MutationType", cols)
	case "long":
		err = writeLong(w, cols)
	default:
		return fmt.Errorf("unknown matrix format %q, want one of %s", format, strings.Join(Formats(), ", "))
	}
	if err != nil {
		return fmt.Errorf("writing %s matrix: %w", format, err)
	}
	return nil
}

// writeWide writes one row per channel and one column per label.
func writeWide(w io.Writer, sep byte, corner string, cols []Column) error {
	bw := bufio.NewWriter(w)
	line := appendCell(nil, corner, sep)
	for _, c := range cols {
		line = append(line, sep)
		line = appendCell(line, c.Label, sep)
	}
	if _, err := bw.Write(append(line, '\n')); err != nil {
		return err
	}
	for i, ch := range Channels {
		line = appendCell(line[:0], ch, sep)
		for _, c := range cols {
			line = append(line, sep)
			line = strconv.AppendInt(line, c.Counts[i], 10)
		}
		if _, err := bw.Write(append(line, '\n')); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// writeLong writes one CSV row per label and channel.
func writeLong(w io.Writer, cols []Column) error {
	bw := bufio.NewWriter(w)
	if _, err := bw.WriteString("label,channel,count\n"); err != nil {
		return err
	}
	var line []byte
	for _, c := range cols {
		label := appendCell(nil, c.Label, ',')
		for i, ch := range Channels {
			line = append(line[:0], label...)
			line = append(line, ',')
			line = appendCell(line, ch, ',')
			line = append(line, ',')
			line = strconv.AppendInt(line, c.Counts[i], 10)
			if _, err := bw.Write(append(line, '\n')); err != nil {
				return err
			}
		}
	}
	return bw.Flush()
}

// appendCell appends s as one cell: neutralised, then quoted if needed.
func appendCell(dst []byte, s string, sep byte) []byte {
	neutral := s != "" && strings.IndexByte("=+-@", s[0]) >= 0
	if !needsQuotes(s, sep) {
		if neutral {
			dst = append(dst, '\'')
		}
		return append(dst, s...)
	}
	dst = append(dst, '"')
	if neutral {
		dst = append(dst, '\'')
	}
	dst = append(dst, strings.ReplaceAll(s, `"`, `""`)...)
	return append(dst, '"')
}

func needsQuotes(s string, sep byte) bool {
	return strings.IndexByte(s, sep) >= 0 || strings.ContainsAny(s, "\"\r\n")
}
