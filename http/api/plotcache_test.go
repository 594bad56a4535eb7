package api

import "testing"

func TestLRU(t *testing.T) {
	c := newLRU[string](10)
	c.add("a", "A", 4)
	c.add("b", "B", 4)
	if v, ok := c.get("a"); !ok || v != "A" {
		t.Fatalf("a: %q %v", v, ok)
	}
	c.add("c", "C", 4) // b is the least recently used
	if _, ok := c.get("b"); ok {
		t.Error("b kept beyond the budget")
	}
	for _, k := range []string{"a", "c"} {
		if _, ok := c.get(k); !ok {
			t.Errorf("%s forgotten", k)
		}
	}
	c.add("big", "X", 11)
	if _, ok := c.get("big"); ok {
		t.Error("a value larger than the budget was kept")
	}
	c.add("a", "A2", 6) // replacing a frees its old cost first
	if v, _ := c.get("a"); v != "A2" || c.cost != 10 {
		t.Errorf("after replacing a: %q, cost %d", v, c.cost)
	}
}
