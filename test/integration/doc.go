// Package integration holds the tests that run the backends against real
// servers in the shapes production uses, rather than one process against one
// server. It has no non-test code besides this file.
//
// The etcd tests (etcd_*_test.go) start a 3-member embedded cluster through
// internal/etcdtest: the conformance suite (storetest) runs against
// etcdstore on it, a fresh key prefix per case; and a fault test stops the
// leader while eight writers run read-then-save loops on shared rollouts,
// then checks that no acknowledged save was lost, that no two saves with the
// same expected version both succeeded, that the history is linearizable
// (porcupine, with unknown outcomes allowed to have happened or not), and
// that the stores answer again after the election.
package integration
