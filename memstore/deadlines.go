package memstore

import (
	"container/heap"
	"time"
)

// deadline is one entry's expiry in the min-heap. index is its position in
// the heap, kept up to date by the heap methods so that a rewrite can move
// it (heap.Fix) and a delete can take it out (heap.Remove) in O(log n): the
// heap never holds stale deadlines.
type deadline struct {
	at    time.Time
	fam   family
	key   string
	index int
}

// deadlineHeap orders deadlines earliest first. It implements heap.Interface.
type deadlineHeap []*deadline

func (h deadlineHeap) Len() int           { return len(h) }
func (h deadlineHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h deadlineHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index = i
	h[j].index = j
}

func (h *deadlineHeap) Push(x any) {
	d := x.(*deadline)
	d.index = len(*h)
	*h = append(*h, d)
}

func (h *deadlineHeap) Pop() any {
	old := *h
	n := len(old)
	d := old[n-1]
	old[n-1] = nil
	d.index = -1
	*h = old[:n-1]
	return d
}

// reset moves d to a new time.
func (h *deadlineHeap) reset(d *deadline, at time.Time) {
	d.at = at
	heap.Fix(h, d.index)
}
