package mocksignal

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// maxIDLen is the longest donor id the stand-in serves.
const maxIDLen = 64

// validID reports whether id may name a profile: 1 to 64 letters, digits,
// '_', '-' or '.', not starting with '.'.
func validID(id string) bool {
	if id == "" || len(id) > maxIDLen || id[0] == '.' {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '_' || c == '-' || c == '.'
		if !ok {
			return false
		}
	}
	return true
}

// index maps the donor ids of a profiles directory to their files. It is
// built once and only read afterwards.
type index struct {
	ids   []string       // in directory order
	paths []string       // paths[i] is the file of ids[i]
	pos   map[string]int // id -> position in ids
}

// buildIndex lists dir; files whose names are not <valid id>.csv, and those
// of the hidden donors, are left out.
func buildIndex(dir string, hidden map[string]bool) (*index, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("listing profiles: %w", err)
	}
	ix := &index{pos: make(map[string]int, len(entries))}
	for _, e := range entries {
		id, ok := strings.CutSuffix(e.Name(), ".csv")
		if e.IsDir() || !ok || !validID(id) || hidden[id] {
			continue
		}
		ix.pos[id] = len(ix.ids)
		ix.ids = append(ix.ids, id)
		ix.paths = append(ix.paths, filepath.Join(dir, e.Name()))
	}
	return ix, nil
}

// path returns the file of id.
func (ix *index) path(id string) (string, bool) {
	i, ok := ix.pos[id]
	if !ok {
		return "", false
	}
	return ix.paths[i], true
}

// neighbour returns the file of the donor listed before id, wrapping
// around: the page a browser gets when it clicks the previous search result.
func (ix *index) neighbour(id string) string {
	i := ix.pos[id]
	return ix.paths[(i+len(ix.ids)-1)%len(ix.ids)]
}
