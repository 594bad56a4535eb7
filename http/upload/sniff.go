package upload

import "bytes"

// delimiters are the cell separators recognised, in order of preference.
var delimiters = [...]byte{',', ';', '\t', '|'}

// sniffRecords is how many records of the sample decide the delimiter.
const sniffRecords = 10

// sniffDelimiter picks the cell separator from the first records of sample:
// among the candidates present in the first record, one found the same
// number of times in every sampled record wins over one that varies; then
// the one found most often in the first record; ties go to the earlier
// candidate in delimiters. Without any candidate in the first record the
// file has a single column and ',' is returned. complete says whether sample
// holds the whole file; if not, its last, possibly cut, record is ignored.
func sniffDelimiter(sample []byte, complete bool) rune {
	counts := sampleCounts(sample, complete)
	if len(counts) == 0 {
		return ','
	}
	best, bestConsistent, bestCount := -1, false, 0
	for i := range delimiters {
		n := counts[0][i]
		if n == 0 {
			continue
		}
		consistent := sameCount(counts, i)
		if best < 0 || consistent && !bestConsistent || consistent == bestConsistent && n > bestCount {
			best, bestConsistent, bestCount = i, consistent, n
		}
	}
	if best < 0 {
		return ','
	}
	return rune(delimiters[best])
}

func sameCount(counts [][len(delimiters)]int, i int) bool {
	for _, c := range counts[1:] {
		if c[i] != counts[0][i] {
			return false
		}
	}
	return true
}

// sampleCounts counts each delimiter outside quotes in the first non-blank
// records of sample. LF or CR ends a record, except inside quotes.
func sampleCounts(sample []byte, complete bool) [][len(delimiters)]int {
	var out [][len(delimiters)]int
	var cur [len(delimiters)]int
	inQuotes, blank := false, true
	for _, b := range sample {
		switch {
		case b == '"':
			inQuotes = !inQuotes
			blank = false
		case inQuotes:
		case b == '\n' || b == '\r':
			if !blank {
				out = append(out, cur)
			}
			if len(out) == sniffRecords {
				return out
			}
			cur, blank = [len(delimiters)]int{}, true
		case b == ' ':
		default:
			blank = false
			if i := bytes.IndexByte(delimiters[:], b); i >= 0 {
				cur[i]++
			}
		}
	}
	if complete && !blank {
		out = append(out, cur)
	}
	return out
}

// binaryShare is the share of control bytes above which a sample is binary.
const binaryShare = 0.1

// binaryProblem says why sample does not look like text, or returns "".
func binaryProblem(sample []byte) string {
	if bytes.HasPrefix(sample, []byte{0xFF, 0xFE}) || bytes.HasPrefix(sample, []byte{0xFE, 0xFF}) {
		return "the file is UTF-16 text; save it as UTF-8 CSV"
	}
	if bytes.IndexByte(sample, 0) >= 0 {
		return "the file is binary, not CSV text: it contains NUL bytes"
	}
	control := 0
	for _, b := range sample {
		if b < 0x20 && b != '\t' && b != '\n' && b != '\r' && b != '\f' || b == 0x7F {
			control++
		}
	}
	if float64(control) > binaryShare*float64(len(sample)) {
		return "the file is binary, not CSV text: too many control bytes"
	}
	return ""
}
