package crosscluster

import (
	"testing"

	"github.com/baldur-go/baldur/etcdstore"
	"github.com/stretchr/testify/assert"
)

// The replicator repeats the stores' key layout; this pins the two together.
func TestKeysMatchEtcdStore(t *testing.T) {
	assert.Equal(t, etcdstore.DefaultPrefix, defaultPrefix)
	assert.Equal(t, etcdstore.FamilyRequest, familyRequest)
	assert.Equal(t, etcdstore.FamilyPending, familyPending)
	assert.Equal(t, etcdstore.FamilyPolicy, familyPolicy)
	for _, prefix := range []string{"", "/baldur/", "/x", "/t/a/"} {
		k, s := etcdstore.NewKeys(prefix), newKeyspace(prefix)
		assert.Equal(t, k.Policy("p"), s.recordKey(kindPolicy, "p"))
		assert.Equal(t, k.Request("r"), s.recordKey(kindRequest, "r"))
		assert.Equal(t, k.Pending("west", "r"), s.pendingKey("west", "r"))
		assert.Equal(t, k.Prefix()+"crosscluster/", s.watch)
	}
}
