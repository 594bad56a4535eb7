package upload

import (
	"fmt"
	"strings"
)

// idNames and labelNames are the header names recognised without options,
// compared case-insensitively, in order of preference. Donor_ID is both: in
// the PCAWG export "Donor_ID,_PATIENT" it holds the specimen, which is the
// label, and the id column is found first, so it only serves as the id
// column when no other id name is present.
var (
	idNames    = []string{"_patient", "patient", "id", "donor_id", "donor"}
	labelNames = []string{"label", "donor_id", "specimen", "sample"}
)

// headerWords mark a single cell as a column name rather than an id.
var headerWords = []string{"donor", "patient", "sample", "specimen", "label"}

// columns are the indexes of the id and label cells; they are equal when the
// id is its own label.
type columns struct {
	id, label int
}

// width is the number of cells a row needs.
func (c columns) width() int {
	return max(c.id, c.label) + 1
}

// singleHeader reports whether the first cell of a one-column file is a
// column name rather than an id: it is when it is not a plausible donor id,
// when it has no digit (every donor id has one, while "id" or "Donor_ID"
// have none), or when it contains one of headerWords case-insensitively.
func singleHeader(cell string) bool {
	if IDProblem(cell) != "" || !hasDigit(cell) {
		return true
	}
	lower := strings.ToLower(cell)
	for _, w := range headerWords {
		if strings.Contains(lower, w) {
			return true
		}
	}
	return false
}

// namedColumns finds the columns in header that opts names, completing the
// other one from the recognised names.
func namedColumns(header []string, opts Options) (columns, error) {
	cols := columns{id: -1, label: -1}
	for _, named := range []struct {
		name string
		dst  *int
	}{{opts.IDColumn, &cols.id}, {opts.LabelColumn, &cols.label}} {
		if named.name == "" {
			continue
		}
		*named.dst = find(header, named.name)
		if *named.dst < 0 {
			return cols, inputErrorf("column %s not found; the columns are %s", show(named.name), listColumns(header))
		}
	}
	return complete(header, cols)
}

// guessColumns finds the columns from the recognised names alone.
func guessColumns(header []string) (columns, error) {
	return complete(header, columns{id: -1, label: -1})
}

// complete fills the unknown columns of cols: the id from idNames, the label
// from labelNames, else the id is its own label.
func complete(header []string, cols columns) (columns, error) {
	if cols.id < 0 {
		cols.id = findAny(header, idNames, cols.label)
	}
	if cols.id < 0 && len(header) == 1 {
		cols.id = 0
	}
	if cols.id < 0 {
		return cols, inputErrorf("no id column: the first row has the columns %s; name one of them %s, or choose one with id_column",
			listColumns(header), strings.Join(idNames, ", "))
	}
	if cols.label < 0 {
		cols.label = findAny(header, labelNames, cols.id)
	}
	if cols.label < 0 {
		cols.label = cols.id
	}
	return cols, nil
}

// find returns the index of the cell equal to name, or else the first one
// equal to it ignoring case, or -1.
func find(header []string, name string) int {
	for i, h := range header {
		if h == name {
			return i
		}
	}
	for i, h := range header {
		if strings.EqualFold(h, name) {
			return i
		}
	}
	return -1
}

// findAny returns the index of the first of names present in header, except
// the cell skip, or -1.
func findAny(header []string, names []string, skip int) int {
	for _, name := range names {
		for i, h := range header {
			if i != skip && strings.EqualFold(h, name) {
				return i
			}
		}
	}
	return -1
}

// maxListed is how many column names an error message lists.
const maxListed = 20

func listColumns(header []string) string {
	shown := make([]string, 0, min(len(header), maxListed))
	for _, h := range header[:min(len(header), maxListed)] {
		shown = append(shown, show(h))
	}
	list := strings.Join(shown, ", ")
	if len(header) > maxListed {
		list += fmt.Sprintf(" and %d more", len(header)-maxListed)
	}
	return list
}
