package api

import (
	"container/list"
	"sync"
)

// lru keeps the most recently used values up to a total cost, forgetting
// the least recently used first. It is safe for concurrent use.
type lru[V any] struct {
	max int

	mu    sync.Mutex
	cost  int
	order *list.List // of *lruEntry[V], most recent first
	byKey map[string]*list.Element
}

type lruEntry[V any] struct {
	key   string
	value V
	cost  int
}

func newLRU[V any](maxCost int) *lru[V] {
	return &lru[V]{max: maxCost, order: list.New(), byKey: map[string]*list.Element{}}
}

// get returns the value of key and marks it used.
func (c *lru[V]) get(key string) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.byKey[key]
	if !ok {
		var zero V
		return zero, false
	}
	c.order.MoveToFront(el)
	return el.Value.(*lruEntry[V]).value, true
}

// add keeps value under key at cost, then forgets the least recently used
// values until the total cost fits. A value costing more than the whole
// budget is not kept.
func (c *lru[V]) add(key string, value V, cost int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.byKey[key]; ok {
		c.remove(el)
	}
	if cost > c.max {
		return
	}
	c.byKey[key] = c.order.PushFront(&lruEntry[V]{key: key, value: value, cost: cost})
	c.cost += cost
	for c.cost > c.max {
		c.remove(c.order.Back())
	}
}

// remove forgets one entry; the caller holds c.mu.
func (c *lru[V]) remove(el *list.Element) {
	e := c.order.Remove(el).(*lruEntry[V])
	delete(c.byKey, e.key)
	c.cost -= e.cost
}
