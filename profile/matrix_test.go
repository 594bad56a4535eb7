package profile

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// sampleColumns has two columns with counts that tell channel and column apart.
func sampleColumns() []Column {
	cols := []Column{{Label: "SP1"}, {Label: "SP2"}}
	for i := range Channels {
		cols[0].Counts[i] = int64(i)
		cols[1].Counts[i] = int64(1000 + i)
	}
	return cols
}

func writeString(t *testing.T, format string, cols []Column) string {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteMatrix(&buf, format, cols); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func TestWriteMatrixWide(t *testing.T) {
	cases := []struct{ format, sep, corner string }{
		{"", ",", "Type"},
		{"csv", ",", "Type"},
		{"tsv", "\t", "Type"},
		{"sigprofiler", "\t", "MutationType"},
	}
	for _, c := range cases {
		t.Run(c.format, func(t *testing.T) {
			var want strings.Builder
			want.WriteString(c.corner + c.sep + "SP1" + c.sep + "SP2\n")
			for i, ch := range Channels {
				fmt.Fprintf(&want, "%s%s%d%s%d\n", ch, c.sep, i, c.sep, 1000+i)
			}
			got := writeString(t, c.format, sampleColumns())
			if got != want.String() {
				t.Fatalf("got\n%s\nwant\n%s", got, want.String())
			}
		})
	}
}

func TestWriteMatrixLiteralLines(t *testing.T) {
	got := strings.Split(writeString(t, "csv", sampleColumns()), "\n")
	if len(got) != 98 || got[97] != "" {
		t.Fatalf("got %d lines, want 97 and a final line end", len(got)-1)
	}
	want := map[int]string{0: "Type,SP1,SP2", 1: "A[C>A]A,0,1000", 2: "A[C>A]C,1,1001", 96: "T[T>G]T,95,1095"}
	for i, line := range want {
		if got[i] != line {
			t.Errorf("line %d = %q, want %q", i+1, got[i], line)
		}
	}
}

func TestWriteMatrixNoColumns(t *testing.T) {
	got := writeString(t, "csv", nil)
	want := "Type\n" + strings.Join(Channels[:], "\n") + "\n"
	if got != want {
		t.Fatalf("got %q", got)
	}
}

func TestWriteMatrixLong(t *testing.T) {
	cols := sampleColumns()
	cols[1].Label = "-x,y"
	got := strings.Split(writeString(t, "long", cols), "\n")
	if len(got) != 1+2*96+1 {
		t.Fatalf("got %d lines", len(got))
	}
	want := map[int]string{
		0:   "label,channel,count",
		1:   "SP1,A[C>A]A,0",
		96:  "SP1,T[T>G]T,95",
		97:  `"'-x,y",A[C>A]A,1000`,
		192: `"'-x,y",T[T>G]T,1095`,
		193: "",
	}
	for i, line := range want {
		if got[i] != line {
			t.Errorf("line %d = %q, want %q", i+1, got[i], line)
		}
	}
}

func TestWriteMatrixCells(t *testing.T) {
	cases := []struct{ label, csv, tsv string }{
		{"SP1", "SP1", "SP1"},
		{"=1+2", "'=1+2", "'=1+2"},
		{"+x", "'+x", "'+x"},
		{"-x", "'-x", "'-x"},
		{"@SUM(A1)", "'@SUM(A1)", "'@SUM(A1)"},
		{"a=b", "a=b", "a=b"},
		{"'=x", "'=x", "'=x"},
		{"", "", ""},
		{" lead", " lead", " lead"},
		{"a,b", `"a,b"`, "a,b"},
		{"a\tb", "a\tb", "\"a\tb\""},
		{`say "hi"`, `"say ""hi"""`, `"say ""hi"""`},
		{"two\nlines", "\"two\nlines\"", "\"two\nlines\""},
		{"cr\r", "\"cr\r\"", "\"cr\r\""},
		{"=a,b", `"'=a,b"`, "'=a,b"},
	}
	for _, c := range cases {
		cols := []Column{{Label: c.label}}
		csvHeader, _, _ := strings.Cut(writeString(t, "csv", cols), "\nA[C>A]A")
		if want := "Type," + c.csv; csvHeader != want {
			t.Errorf("csv header for %q = %q, want %q", c.label, csvHeader, want)
		}
		tsvHeader, _, _ := strings.Cut(writeString(t, "tsv", cols), "\nA[C>A]A")
		if want := "Type\t" + c.tsv; tsvHeader != want {
			t.Errorf("tsv header for %q = %q, want %q", c.label, tsvHeader, want)
		}
	}
}

func TestWriteMatrixUnknownFormat(t *testing.T) {
	var buf bytes.Buffer
	err := WriteMatrix(&buf, "xlsx", sampleColumns())
	if err == nil || !strings.Contains(err.Error(), `"xlsx"`) {
		t.Fatalf("err = %v", err)
	}
	if buf.Len() != 0 {
		t.Fatalf("wrote %d bytes for an unknown format", buf.Len())
	}
}

type failingWriter struct{}

var errDiskFull = errors.New("disk full")

func (failingWriter) Write([]byte) (int, error) { return 0, errDiskFull }

func TestWriteMatrixWriteError(t *testing.T) {
	for _, format := range Formats() {
		if err := WriteMatrix(failingWriter{}, format, sampleColumns()); !errors.Is(err, errDiskFull) {
			t.Errorf("%s: err = %v, want the writer's error", format, err)
		}
	}
}

func TestFormatsAndContentType(t *testing.T) {
	for _, format := range Formats() {
		if ContentType(format) == "" {
			t.Errorf("no content type for %s", format)
		}
	}
	if Formats()[0] != "csv" || ContentType("") != ContentType("csv") {
		t.Error("csv is not the default")
	}
	if got := ContentType("sigprofiler"); !strings.HasPrefix(got, "text/tab-separated-values") {
		t.Errorf("sigprofiler content type %q", got)
	}
	if ContentType("xlsx") != "" {
		t.Error("content type for an unknown format")
	}
}

func TestReadMatrixRoundTrip(t *testing.T) {
	cols := sampleColumns()
	labels := []string{"=1+2", "a,b", `say "hi"`, "two\nlines", "cr\r\nlf", "", "'=x", "@", "plain"}
	for i, l := range labels {
		c := Column{Label: l}
		for j := range c.Counts {
			c.Counts[j] = int64(i*j) * 7919
		}
		cols = append(cols, c)
	}
	stored := writeString(t, "csv", cols)
	read, err := ReadMatrix(strings.NewReader(stored))
	if err != nil {
		t.Fatal(err)
	}
	if len(read) != len(cols) {
		t.Fatalf("read %d columns, want %d", len(read), len(cols))
	}
	for i := range cols {
		if read[i].Counts != cols[i].Counts {
			t.Errorf("column %d: counts differ", i)
		}
	}
	if read[2].Label != "'=1+2" || read[3].Label != "a,b" || read[6].Label != "cr\r\nlf" {
		t.Errorf("labels read back: %q", []string{read[2].Label, read[3].Label, read[6].Label})
	}
	for _, format := range Formats() {
		if writeString(t, format, read) != writeString(t, format, cols) {
			t.Errorf("%s derived from the stored csv differs from %s written directly", format, format)
		}
	}
}

func TestReadMatrixRejects(t *testing.T) {
	good := writeString(t, "csv", sampleColumns())
	cases := map[string]string{
		"empty":            "",
		"wrong corner":     strings.Replace(good, "Type", "Kind", 1),
		"missing rows":     good[:strings.Index(good, "T[T>G]T")],
		"bad count":        strings.Replace(good, "A[C>A]C,1,", "A[C>A]C,x,", 1),
		"negative count":   strings.Replace(good, "A[C>A]C,1,", "A[C>A]C,-1,", 1),
		"short row":        strings.Replace(good, "A[C>A]C,1,1001", "A[C>A]C,1", 1),
		"wrong channel":    strings.Replace(good, "A[C>A]C,1,", "A[C>A]G,1,", 1),
		"extra row":        good + "X,1,2\n",
		"unclosed quote":   strings.Replace(good, "SP1", `"SP1`, 1),
		"bare quote":       strings.Replace(good, "SP1", `S"P1`, 1),
		"text after quote": strings.Replace(good, "SP1", `"SP"1`, 1),
	}
	for name, in := range cases {
		if cols, err := ReadMatrix(strings.NewReader(in)); err == nil {
			t.Errorf("%s: accepted %d columns", name, len(cols))
		}
	}
}

func TestReadMatrixWithoutFinalLineEnd(t *testing.T) {
	good := writeString(t, "csv", sampleColumns())
	cols, err := ReadMatrix(strings.NewReader(strings.TrimSuffix(good, "\n")))
	if err != nil {
		t.Fatal(err)
	}
	if cols[1].Counts[95] != 1095 {
		t.Fatalf("last count %d", cols[1].Counts[95])
	}
}

func BenchmarkWriteMatrix(b *testing.B) {
	cols := make([]Column, 1740)
	for i := range cols {
		cols[i] = Column{Label: fmt.Sprintf("SP%d", i)}
		for j := range cols[i].Counts {
			cols[i].Counts[j] = int64(i + j)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		var buf bytes.Buffer
		if err := WriteMatrix(&buf, "csv", cols); err != nil {
			b.Fatal(err)
		}
	}
}
