package profile

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
)

// ErrWrongDonor means a body is a well-formed header of another donor's
// profile: the site served a stale page. Errors from Parse wrap it through a
// *WrongDonorError.
var ErrWrongDonor = errors.New("profile belongs to another donor")

// WrongDonorError is the error of Parse when the header names another donor
// than the one asked for. It wraps ErrWrongDonor.
type WrongDonorError struct {
	Got  string // the donor the header names
	Want string // the donor asked for
}

func (e *WrongDonorError) Error() string {
	return fmt.Sprintf("header names donor %s, not %s", e.Got, e.Want)
}

// Unwrap returns ErrWrongDonor.
func (e *WrongDonorError) Unwrap() error { return ErrWrongDonor }

// Profile is the SBS96 profile of one donor: one count per channel, in the
// order of Channels.
type Profile struct {
	DonorID string
	Counts  [96]int64
}

const (
	headerPrefix = `substitution,"`
	headerSuffix = `_Single-base Substitution"`
	bom          = "\xef\xbb\xbf"
)

// Parse validates body as the SIGNAL download of donorID's profile and
// returns it. The body must be the header
// substitution,"<donorID>_Single-base Substitution" followed by the 96 lines
// <channel>,<count> in the order of Channels, each count a non-negative
// decimal integer. A leading UTF-8 byte order mark, CRLF line ends and one
// final line end are tolerated; anything else is an error naming the
// problem. A header that names another donor gives a *WrongDonorError.
func Parse(body []byte, donorID string) (*Profile, error) {
	if donorID == "" {
		return nil, errors.New("empty donor id")
	}
	body = bytes.TrimPrefix(body, []byte(bom))
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return nil, errors.New("empty body")
	}
	if trimmed[0] == '<' {
		return nil, errors.New("looks like HTML, not a profile")
	}
	lines := lineReader{rest: body}
	header, _ := lines.next()
	if err := checkHeader(header, donorID); err != nil {
		return nil, err
	}
	p := &Profile{DonorID: donorID}
	if err := parseCounts(&lines, &p.Counts); err != nil {
		return nil, err
	}
	return p, nil
}

func checkHeader(line []byte, donorID string) error {
	if !bytes.HasPrefix(line, []byte(headerPrefix)) || !bytes.HasSuffix(line, []byte(headerSuffix)) ||
		len(line) < len(headerPrefix)+len(headerSuffix) {
		return fmt.Errorf("line 1: header %q is not %s<donor id>%s", clip(line), headerPrefix, headerSuffix)
	}
	got := line[len(headerPrefix) : len(line)-len(headerSuffix)]
	if string(got) != donorID {
		return &WrongDonorError{Got: string(got), Want: donorID}
	}
	return nil
}

// parseCounts reads the 96 channel lines and checks that nothing follows.
func parseCounts(lines *lineReader, counts *[96]int64) error {
	for i := range Channels {
		line, ok := lines.next()
		if !ok {
			return fmt.Errorf("missing channels: got %d of %d", i, len(Channels))
		}
		n, err := parseChannelLine(line, i)
		if err != nil {
			return fmt.Errorf("line %d: %w", lines.number, err)
		}
		counts[i] = n
	}
	if line, ok := lines.next(); ok {
		return fmt.Errorf("line %d: unexpected %q after the %d channels", lines.number, clip(line), len(Channels))
	}
	return nil
}

// parseChannelLine checks that line is the i-th channel and returns its count.
func parseChannelLine(line []byte, i int) (int64, error) {
	if len(line) == 0 {
		return 0, errors.New("empty line")
	}
	name, count, found := bytes.Cut(line, []byte{','})
	if !found {
		return 0, fmt.Errorf("%q is not <channel>,<count>", clip(line))
	}
	if string(name) != Channels[i] {
		return 0, channelError(name, i)
	}
	return parseCount(count)
}

func channelError(name []byte, i int) error {
	at, known := channelIndex[string(name)]
	switch {
	case !known:
		return fmt.Errorf("unknown channel %q", clip(name))
	case at < i:
		return fmt.Errorf("channel %s duplicated", name)
	default:
		return fmt.Errorf("channel %s out of order, expected %s", name, Channels[i])
	}
}

// parseCount accepts only decimal digits: no sign, no spaces.
func parseCount(s []byte) (int64, error) {
	if len(s) == 0 {
		return 0, fmt.Errorf("count %q is not a non-negative integer", s)
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("count %q is not a non-negative integer", clip(s))
		}
	}
	n, err := strconv.ParseInt(string(s), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("count %q is too large", clip(s))
	}
	return n, nil
}

// clip shortens text quoted in an error message.
func clip(b []byte) string {
	const max = 60
	if len(b) > max {
		return string(b[:max]) + "..."
	}
	return string(b)
}

// lineReader yields the lines of a body without their line end (LF or
// CRLF). A final line end does not start another line.
type lineReader struct {
	rest   []byte
	number int
	done   bool
}

func (r *lineReader) next() ([]byte, bool) {
	if r.done {
		return nil, false
	}
	r.number++
	line, rest, found := bytes.Cut(r.rest, []byte{'\n'})
	r.rest = rest
	if !found || len(rest) == 0 {
		r.done = true
	}
	return bytes.TrimSuffix(line, []byte{'\r'}), true
}

// Bytes returns the profile in the site's format: the header and the 96
// channel lines, separated by LF, without a final line end. Parse of the
// result with p.DonorID gives p back.
func (p *Profile) Bytes() []byte {
	out := make([]byte, 0, 64+len(p.DonorID)+96*16)
	out = append(out, headerPrefix...)
	out = append(out, p.DonorID...)
	out = append(out, headerSuffix...)
	for i, ch := range Channels {
		out = append(out, '\n')
		out = append(out, ch...)
		out = append(out, ',')
		out = strconv.AppendInt(out, p.Counts[i], 10)
	}
	return out
}
