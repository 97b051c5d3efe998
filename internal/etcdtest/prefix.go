package etcdtest

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
)

var prefixSeq atomic.Int64

// Prefix returns a key prefix no other call in this process returns:
// "/t/<test name>-<n>/", the test name reduced to letters, digits, '-' and
// '_'. Tests sharing one etcd give each case its own prefix so that they
// never see each other's keys.
func Prefix(t testing.TB) string {
	name := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			return r
		default:
			return '_'
		}
	}, t.Name())
	return fmt.Sprintf("/t/%s-%d/", name, prefixSeq.Add(1))
}
