package registry

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
)

// node is one build in progress as the cycle detector sees it, whatever the
// slot's type: which slot and name, and which builds it currently waits on.
type node struct {
	slot     any // the *Slot[T], compared by identity
	contract string
	name     string

	finished atomic.Bool // the factory has returned; a context may outlive its build

	mu      sync.Mutex
	waitsOn map[*node]int // a count: several goroutines of one build may wait on the same build
}

func (n *node) addWait(on *node) {
	n.mu.Lock()
	if n.waitsOn == nil {
		n.waitsOn = map[*node]int{}
	}
	n.waitsOn[on]++
	n.mu.Unlock()
}

func (n *node) removeWait(on *node) {
	n.mu.Lock()
	if n.waitsOn[on]--; n.waitsOn[on] <= 0 {
		delete(n.waitsOn, on)
	}
	n.mu.Unlock()
}

func (n *node) edges() []*node {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := make([]*node, 0, len(n.waitsOn))
	for m := range n.waitsOn {
		out = append(out, m)
	}
	return out
}

// reaches reports whether target is reachable from start along wait edges.
// A waiter adds its edge first and searches after, so of two goroutines
// closing one cycle at the same moment at least one sees the other's edge.
func reaches(start, target *node) bool {
	seen := map[*node]bool{}
	stack := []*node{start}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if n == target {
			return true
		}
		if seen[n] {
			continue
		}
		seen[n] = true
		stack = append(stack, n.edges()...)
	}
	return false
}

// frame is the mark a factory's context carries: the build it runs for, and
// the frame of the build that asked for it.
type frame struct {
	n      *node
	parent *frame
}

type frameKey struct{}

func frameFrom(ctx context.Context) *frame {
	f, _ := ctx.Value(frameKey{}).(*frame)
	return f
}

// building reports whether slot/name is being built somewhere in the chain.
// A finished build does not count: a goroutine the factory started may hold
// its context long after the factory returned.
func (f *frame) building(slot any, name string) bool {
	for ; f != nil; f = f.parent {
		if f.n.slot == slot && f.n.name == name && !f.n.finished.Load() {
			return true
		}
	}
	return false
}

// chain describes the builds from the outermost to the one asked for:
// `governance "a" -> dlq "b" -> governance "a"`.
func (f *frame) chain(contract, name string) string {
	var parts []string
	for ; f != nil; f = f.parent {
		parts = append(parts, fmt.Sprintf("%s %q", f.n.contract, f.n.name))
	}
	for i, j := 0, len(parts)-1; i < j; i, j = i+1, j-1 {
		parts[i], parts[j] = parts[j], parts[i]
	}
	parts = append(parts, fmt.Sprintf("%s %q", contract, name))
	return strings.Join(parts, " -> ")
}
