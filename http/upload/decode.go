package upload

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"unicode/utf8"
)

// limitReader fails with ErrTooLarge once more than max bytes were read; a
// max of zero or less means no limit.
type limitReader struct {
	r   io.Reader
	max int64
	n   int64
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.max <= 0 {
		return l.r.Read(p)
	}
	if l.n > l.max {
		return 0, l.tooLarge()
	}
	if rest := l.max + 1 - l.n; int64(len(p)) > rest {
		p = p[:rest]
	}
	n, err := l.r.Read(p)
	l.n += int64(n)
	if l.n > l.max {
		return 0, l.tooLarge()
	}
	return n, err
}

func (l *limitReader) tooLarge() error {
	return fmt.Errorf("upload is larger than %d bytes: %w", l.max, ErrTooLarge)
}

// utf8BOM is the byte order mark some programs write before UTF-8 text.
var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// skipBOM drops a leading UTF-8 byte order mark.
func skipBOM(br *bufio.Reader) error {
	head, err := br.Peek(len(utf8BOM))
	if bytes.Equal(head, utf8BOM) {
		_, err = br.Discard(len(utf8BOM))
		return err
	}
	if err != nil && err != io.EOF {
		return err
	}
	return nil
}

// lineDecoder turns the upload into UTF-8 line by line: a line that is valid
// UTF-8 passes unchanged, any other line is read as Latin-1 (ISO 8859-1),
// where every byte is the code point of the same value. Deciding per line
// keeps the reader streaming and guarantees valid UTF-8 downstream even in a
// file that mixes both. A lone CR (the line end of old Mac files) becomes LF.
// A NUL byte anywhere ends the read with an InputError.
type lineDecoder struct {
	br      *bufio.Reader
	line    int64
	pending []byte
	long    []byte
	out     []byte
	err     error
}

func (d *lineDecoder) Read(p []byte) (int, error) {
	for len(d.pending) == 0 {
		if d.err != nil {
			return 0, d.err
		}
		d.next()
	}
	n := copy(p, d.pending)
	d.pending = d.pending[n:]
	return n, nil
}

// next decodes one more line into pending, or sets err.
func (d *lineDecoder) next() {
	line, err := d.readLine()
	d.line++
	if i := bytes.IndexByte(line, 0); i >= 0 {
		d.err = inputErrorf("the file is binary, not CSV text: NUL byte on line %d", d.line)
		return
	}
	d.err = err
	switch {
	case !utf8.Valid(line):
		d.out = d.out[:0]
		for _, b := range line {
			d.out = utf8.AppendRune(d.out, rune(b))
		}
		d.pending = loneCRToLF(d.out)
	case hasLoneCR(line):
		d.out = append(d.out[:0], line...)
		d.pending = loneCRToLF(d.out)
	default:
		d.pending = line
	}
}

// hasLoneCR reports whether b has a CR not followed by LF.
func hasLoneCR(b []byte) bool {
	for i, c := range b {
		if c == '\r' && (i+1 == len(b) || b[i+1] != '\n') {
			return true
		}
	}
	return false
}

// loneCRToLF replaces in place every CR not followed by LF with LF.
func loneCRToLF(b []byte) []byte {
	for i, c := range b {
		if c == '\r' && (i+1 == len(b) || b[i+1] != '\n') {
			b[i] = '\n'
		}
	}
	return b
}

// readLine returns the next line with its '\n', joining the pieces of a line
// longer than the buffer.
func (d *lineDecoder) readLine() ([]byte, error) {
	d.long = d.long[:0]
	for {
		frag, err := d.br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			d.long = append(d.long, frag...)
			continue
		}
		if len(d.long) == 0 {
			return frag, err
		}
		d.long = append(d.long, frag...)
		return d.long, err
	}
}
