package upload

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/metrics"
	"strings"
	"testing"
	"time"

	"github.com/signalscrape/signalscrape/profile/fixtures"
)

func parseFixture(t *testing.T, name string, opts Options) *Result {
	t.Helper()
	f, err := os.Open(fixtures.Path(t, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := Parse(f, opts)
	if err != nil {
		t.Fatalf("Parse(%s): %v", name, err)
	}
	return res
}

func TestParseRealFixture(t *testing.T) {
	res := parseFixture(t, "pcawg_ids_matched_DonorID.csv", Options{})
	if res.Rows != 1860 || res.Distinct != 1740 || len(res.Entries) != 1860 || res.Duplicates != 120 {
		t.Fatalf("rows %d distinct %d entries %d duplicates %d; want 1860 1740 1860 120",
			res.Rows, res.Distinct, len(res.Entries), res.Duplicates)
	}
	if res.RejectedTotal != 0 || len(res.Rejected) != 0 {
		t.Fatalf("rejected %d: %v", res.RejectedTotal, res.Rejected)
	}
	first := res.Entries[0]
	if first != (Entry{Label: "SP101724", ID: "DO46416"}) {
		t.Fatalf("first entry %+v", first)
	}
	perID := map[string]int{}
	for _, e := range res.Entries {
		if !strings.HasPrefix(e.Label, "SP") || !strings.HasPrefix(e.ID, "DO") {
			t.Fatalf("entry %+v: columns swapped", e)
		}
		perID[e.ID]++
	}
	several := 0
	for _, n := range perID {
		if n > 1 {
			several++
		}
	}
	if len(perID) != 1740 || several != 62 {
		t.Fatalf("%d distinct ids, %d in several rows; want 1740 and 62", len(perID), several)
	}
}

func TestParseMaxTasks(t *testing.T) {
	res := parseFixture(t, "pcawg_ids_matched_DonorID.csv", Options{MaxTasks: 10})
	if res.Distinct != 10 || res.Rows != 1860 {
		t.Fatalf("distinct %d rows %d; want 10 and 1860", res.Distinct, res.Rows)
	}
	ids := map[string]bool{}
	for _, e := range res.Entries {
		ids[e.ID] = true
	}
	if len(ids) != 10 {
		t.Fatalf("entries name %d ids; want 10", len(ids))
	}
}

func TestParseSmallFixture(t *testing.T) {
	res := parseFixture(t, "small_4_ids.csv", Options{})
	want := []Entry{{"SP101724", "DO46416"}, {"SP79365", "DO36062"}, {"SP98853", "DO45049"}, {"SP106808", "DO48578"}}
	if fmt.Sprint(res.Entries) != fmt.Sprint(want) || res.Rows != 4 || res.Distinct != 4 {
		t.Fatalf("got %+v rows %d distinct %d", res.Entries, res.Rows, res.Distinct)
	}
}

func TestParseNamedColumns(t *testing.T) {
	in := "a,Donor,Tumour\nx,DO1,T1\ny,DO2,T2\n"
	res, err := Parse(strings.NewReader(in), Options{IDColumn: "donor", LabelColumn: "tumour"})
	if err != nil {
		t.Fatal(err)
	}
	want := []Entry{{"T1", "DO1"}, {"T2", "DO2"}}
	if fmt.Sprint(res.Entries) != fmt.Sprint(want) {
		t.Fatalf("entries %+v; want %+v", res.Entries, want)
	}
	res, err = Parse(strings.NewReader("Donor_ID,_PATIENT\nSP1,DO1\n"), Options{IDColumn: "_PATIENT"})
	if err != nil || res.Entries[0] != (Entry{"SP1", "DO1"}) {
		t.Fatalf("id column alone: %+v %v", res, err)
	}
}

// okCase is an input that parses, with the entries it must give.
type okCase struct {
	name    string
	in      string
	opts    Options
	entries []Entry
	rows    int64
	dups    int64
	reject  []string // substrings of the rejection reasons, in order
}

func TestParseAccepts(t *testing.T) {
	cases := []okCase{
		{name: "single column without header", in: "DO1\nDO2\n", entries: []Entry{{"DO1", "DO1"}, {"DO2", "DO2"}}, rows: 2},
		{name: "single column with header", in: "donor_id\nDO1\n", entries: []Entry{{"DO1", "DO1"}}, rows: 1},
		{name: "single column header without digit", in: "Donors\nDO1\n", entries: []Entry{{"DO1", "DO1"}}, rows: 1},
		{name: "single column header with space", in: "Donor ID 2\nDO1\n", entries: []Entry{{"DO1", "DO1"}}, rows: 1},
		{name: "BOM", in: "\xEF\xBB\xBFDonor_ID,_PATIENT\nSP1,DO1\n", entries: []Entry{{"SP1", "DO1"}}, rows: 1},
		{name: "CRLF", in: "Donor_ID,_PATIENT\r\nSP1,DO1\r\nSP2,DO2\r\n", entries: []Entry{{"SP1", "DO1"}, {"SP2", "DO2"}}, rows: 2},
		{name: "CR line ends", in: "Donor_ID,_PATIENT\rSP1,DO1\rSP2,DO2\r", entries: []Entry{{"SP1", "DO1"}, {"SP2", "DO2"}}, rows: 2},
		{name: "Latin-1 with CR line ends", in: "label;id\r\xe9;DO1\r", entries: []Entry{{"é", "DO1"}}, rows: 1},
		{name: "no final newline", in: "Donor_ID,_PATIENT\nSP1,DO1", entries: []Entry{{"SP1", "DO1"}}, rows: 1},
		{name: "semicolon", in: "Donor_ID;_PATIENT\nSP1;DO1\n", entries: []Entry{{"SP1", "DO1"}}, rows: 1},
		{name: "tab", in: "Donor_ID\t_PATIENT\nSP1\tDO1\n", entries: []Entry{{"SP1", "DO1"}}, rows: 1},
		{name: "pipe", in: "label|id\nA|DO1\n", entries: []Entry{{"A", "DO1"}}, rows: 1},
		{name: "semicolon beats commas inside labels", in: "label;id\na,b;DO1\nc,d;DO2\n", entries: []Entry{{"a,b", "DO1"}, {"c,d", "DO2"}}, rows: 2},
		{name: "quoted comma", in: "label,id\n\"tumour, left\",DO1\nB,DO2\n", entries: []Entry{{"tumour, left", "DO1"}, {"B", "DO2"}}, rows: 2},
		{
			name: "quoted newlines", in: "label,id,note\r\nA,DO1,\"two\r\nlines\"\r\n\"B\nC\",DO2\r\nD,DO3,\"x,\ny\"\n",
			entries: []Entry{{"A", "DO1"}, {"D", "DO3"}}, rows: 3, reject: []string{`label "B\nC" contains the control character U+000A`},
		},
		{name: "escaped quotes", in: "label,id\n\"say \"\"hi\"\"\",DO1\n", entries: []Entry{{`say "hi"`, "DO1"}}, rows: 1},
		{name: "Latin-1", in: "label;id\nTumeur \xe9t\xe9;DO1\n", entries: []Entry{{"Tumeur été", "DO1"}}, rows: 1},
		{name: "UTF-8 label", in: "label,id\nTumeur été,DO1\n", entries: []Entry{{"Tumeur été", "DO1"}}, rows: 1},
		{name: "trimmed cells", in: "label , id\n  A  ,  DO1 \n", entries: []Entry{{"A", "DO1"}}, rows: 1},
		{name: "blank lines skipped", in: "label,id\n\nA,DO1\n   \n,\nB,DO2\n\n", entries: []Entry{{"A", "DO1"}, {"B", "DO2"}}, rows: 2},
		{name: "empty label takes the id", in: "label,id\n,DO1\n", entries: []Entry{{"DO1", "DO1"}}, rows: 1},
		{name: "extra cells", in: "label,id,note\nA,DO1,x,y\n", entries: []Entry{{"A", "DO1"}}, rows: 1},
		{name: "id column only", in: "id,note\nDO1,x\n", entries: []Entry{{"DO1", "DO1"}}, rows: 1},
		{name: "formula label kept", in: "label,id\n=1+1,DO1\n", entries: []Entry{{"=1+1", "DO1"}}, rows: 1},
		{
			name: "duplicates", in: "label,id\nA,DO1\nA,DO1\nB,DO1\nC,DO2\n",
			entries: []Entry{{"A", "DO1"}, {"B", "DO1"}, {"C", "DO2"}}, rows: 4, dups: 2,
		},
		{
			name: "max tasks", in: "label,id\nA,DO1\nB,DO2\nC,DO3\nD,DO1\n", opts: Options{MaxTasks: 2},
			entries: []Entry{{"A", "DO1"}, {"B", "DO2"}, {"D", "DO1"}}, rows: 4, dups: 1,
		},
		{
			name: "rejections", in: "label,id\nA\nB,\nC,DO 1\nD,\"DO\"\"1\"\nE,../etc\nF,%2F\nG,DO\u04301\nH,\"=HYPERLINK(\"\"x\"\")\"\n" +
				"I,-DO1\nJ,.DO1\nK," + strings.Repeat("x", 10240) + "\n" + strings.Repeat("L", 257) + ",DO1\n\"M\x01\",DO1\nok,DO1\nok,DO2\nN,DO3 \"x\n",
			entries: []Entry{{"ok", "DO1"}}, rows: 16,
			reject: []string{
				"row has 1 cells; 2 are needed", "empty id", `contains ' '`, `contains '"'`, `starts with '.'`,
				`contains '%'`, "U+0430", `contains '='`, `starts with '-'`, `starts with '.'`, "10240 characters long",
				"257 characters long", "control character U+0001", `label "ok" already names the id "DO1"`, "malformed CSV",
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := Parse(strings.NewReader(c.in), c.opts)
			if err != nil {
				t.Fatal(err)
			}
			checkResult(t, c, res)
		})
	}
}

func checkResult(t *testing.T, c okCase, res *Result) {
	t.Helper()
	if fmt.Sprintf("%q", res.Entries) != fmt.Sprintf("%q", c.entries) {
		t.Errorf("entries %q; want %q", res.Entries, c.entries)
	}
	if res.Rows != c.rows || res.Duplicates != c.dups {
		t.Errorf("rows %d duplicates %d; want %d and %d", res.Rows, res.Duplicates, c.rows, c.dups)
	}
	if len(res.Rejected) != len(c.reject) || res.RejectedTotal != int64(len(c.reject)) {
		t.Fatalf("rejected %d (%d kept): %v; want %d", res.RejectedTotal, len(res.Rejected), res.Rejected, len(c.reject))
	}
	for i, want := range c.reject {
		if !strings.Contains(res.Rejected[i].Error, want) {
			t.Errorf("rejection %d: %q; want it to contain %q", i, res.Rejected[i].Error, want)
		}
	}
}

func TestParseRejectionRows(t *testing.T) {
	in := "label,id\nA,DO1\n\"multi\nline\",bad id\nC,DO 3\n"
	res, err := Parse(strings.NewReader(in), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rejected) != 2 || res.Rejected[0].Row != 3 || res.Rejected[1].Row != 5 {
		t.Fatalf("rejections %+v; want rows 3 and 5", res.Rejected)
	}
}

func TestParseRejects(t *testing.T) {
	cases := []struct {
		name, in string
		opts     Options
		want     string
	}{
		{"empty", "", Options{}, "empty"},
		{"only BOM", "\xEF\xBB\xBF", Options{}, "empty"},
		{"only header", "Donor_ID,_PATIENT\n", Options{}, "header but no data rows"},
		{"only single header", "donor_id\n", Options{}, "header but no data rows"},
		{"only blank lines", "\n\n  \r\n\n", Options{}, "only blank lines"},
		{"NUL bytes", "label,id\nA,DO1\x00\n", Options{}, "binary"},
		{"NUL late", "label,id\n" + strings.Repeat("A,DO1\n", 20000) + "\x00", Options{}, "NUL byte on line 20002"},
		{"mostly control bytes", "\x01\x02\x03\x04\x05\x06\x07\x08\x0e\x0f,a\n", Options{}, "binary"},
		{"UTF-16", "\xFF\xFEi\x00d\x00", Options{}, "UTF-16"},
		{"no id column", "specimen,tumour\nSP1,T1\n", Options{}, `no id column: the first row has the columns "specimen", "tumour"`},
		{"no header several columns", "SP1,DO1\n", Options{}, "no id column"},
		{"unknown id column", "a,b\nx,DO1\n", Options{IDColumn: "donor"}, `column "donor" not found; the columns are "a", "b"`},
		{"unknown label column", "id,b\nDO1,x\n", Options{LabelColumn: "tumour"}, `column "tumour" not found`},
		{"label column without id", "a,b\nx,DO1\n", Options{LabelColumn: "a"}, "no id column"},
		{"no accepted rows", "label,id\nA,DO 1\nB,\n", Options{}, "no row was accepted: 2 of 2 rows were rejected; row 2:"},
		{"html", "<html>\n<body>hello</body>\n</html>\n", Options{}, "no row was accepted"},
		{"bad quote in header", "\"label,id\nA,DO1\n", Options{}, "not valid CSV"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := Parse(strings.NewReader(c.in), c.opts)
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Fatalf("got %+v, %v; want an InputError", res, err)
			}
			if !strings.Contains(ie.Msg, c.want) {
				t.Fatalf("error %q; want it to contain %q", ie.Msg, c.want)
			}
		})
	}
}

func TestParseTooLarge(t *testing.T) {
	in := "label,id\n" + strings.Repeat("A,DO1\n", 1000)
	_, err := Parse(strings.NewReader(in), Options{MaxBytes: int64(len(in) - 1)})
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err %v; want ErrTooLarge", err)
	}
	_, err = Parse(strings.NewReader(in), Options{MaxBytes: 100})
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("small limit: err %v; want ErrTooLarge", err)
	}
	if _, err := Parse(strings.NewReader(in), Options{MaxBytes: int64(len(in))}); err != nil {
		t.Fatalf("exactly at the limit: %v", err)
	}
}

func TestParseReadError(t *testing.T) {
	boom := errors.New("boom")
	r := io.MultiReader(strings.NewReader("label,id\nA,DO1\n"), &failingReader{err: boom})
	_, err := Parse(r, Options{})
	if !errors.Is(err, boom) {
		t.Fatalf("err %v; want it to wrap boom", err)
	}
}

type failingReader struct{ err error }

func (f *failingReader) Read([]byte) (int, error) { return 0, f.err }

// rowsReader generates n data rows after a header without holding them.
type rowsReader struct {
	n, next int
	row     func(i int) string
	buf     bytes.Buffer
}

func (g *rowsReader) Read(p []byte) (int, error) {
	for g.buf.Len() < len(p) && g.next <= g.n {
		if g.next == 0 {
			g.buf.WriteString("label,id\n")
		} else {
			g.buf.WriteString(g.row(g.next))
		}
		g.next++
	}
	if g.buf.Len() == 0 {
		return 0, io.EOF
	}
	return g.buf.Read(p)
}

func TestParseMillionRows(t *testing.T) {
	if testing.Short() {
		t.Skip("a million rows")
	}
	const n = 1_000_000
	row := func(i int) string {
		if i%2 == 0 {
			return fmt.Sprintf("S%d,DO%d\n", i%100, i%100)
		}
		return fmt.Sprintf("S%d,bad id %d\n", i, i)
	}
	var res *Result
	var err error
	peak := peakHeapDuring(func() { res, err = Parse(&rowsReader{n: n, row: row}, Options{}) })
	if err != nil {
		t.Fatal(err)
	}
	// The rows, some 20 MB, are read as a stream: the heap holds the
	// entries and a bounded list of rejections, never the file.
	if peak > 16<<20 {
		t.Errorf("heap peaked at %d MB while a million rows were read, want under 16 MB", peak>>20)
	}
	if res.Rows != n || res.RejectedTotal != n/2 || len(res.Rejected) != MaxRejections {
		t.Fatalf("rows %d rejected %d kept %d", res.Rows, res.RejectedTotal, len(res.Rejected))
	}
	if res.Distinct != 50 || len(res.Entries) != 50 || res.Duplicates != n/2-50 {
		t.Fatalf("distinct %d entries %d duplicates %d", res.Distinct, len(res.Entries), res.Duplicates)
	}
}

// peakHeapDuring runs f and returns the largest heap of live and unswept
// objects seen while it ran, sampled every few milliseconds.
func peakHeapDuring(f func()) uint64 {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	done := make(chan struct{})
	peak := make(chan uint64)
	go func() {
		var most uint64
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(sample)
			most = max(most, sample[0].Value.Uint64())
			select {
			case <-done:
				peak <- most
				return
			case <-tick.C:
			}
		}
	}()
	runtime.GC()
	f()
	close(done)
	return <-peak
}

func BenchmarkParse(b *testing.B) {
	const n = 100_000
	var in bytes.Buffer
	in.WriteString("Donor_ID,_PATIENT\n")
	for i := range n {
		fmt.Fprintf(&in, "SP%d,DO%d\n", i, i%70000)
	}
	b.SetBytes(int64(in.Len()))
	for b.Loop() {
		res, err := Parse(bytes.NewReader(in.Bytes()), Options{})
		if err != nil || res.Rows != n {
			b.Fatalf("rows %v, err %v", res, err)
		}
	}
}

func TestSniffDelimiter(t *testing.T) {
	cases := []struct {
		in       string
		complete bool
		want     rune
	}{
		{"DO1\nDO2\n", true, ','},
		{"a;b,c\nd;e\n", true, ';'},
		{"a,b;c;d\ne,f;g;h\n", true, ';'},
		{"a\tb\tc\nd\te\tf\n", true, '\t'},
		{"\"x;y\"|id\nA|DO1\n", true, '|'},
		{"label,id\n\"a\nb;c;d\",DO1\n", true, ','},
		{"a,b\r\nc,d\r\n", true, ','},
		{"a;b\nc;d\ne,f,g,h,i", false, ';'},
	}
	for _, c := range cases {
		if got := sniffDelimiter([]byte(c.in), c.complete); got != c.want {
			t.Errorf("sniffDelimiter(%q) = %q; want %q", c.in, got, c.want)
		}
	}
}
