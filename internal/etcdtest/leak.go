package etcdtest

import "go.uber.org/goleak"

// LeakOptions are the goleak options for a package whose tests start etcd
// members through this package:
//
//	func TestMain(m *testing.M) { goleak.VerifyTestMain(m, etcdtest.LeakOptions()...) }
//
// They ignore the keep-alive HTTP connections between the members' peer
// ports, and nothing else. etcd's server sends version and lease requests to
// its peers through a round tripper it never closes (EtcdServer.peerRt, no
// idle timeout), and the answering side of such a connection stays in
// net/http's abortPendingRead after the handler returned, because etcd's
// timeoutConn resets the read deadline that is meant to interrupt it; when a
// member stops, http.Server.Shutdown waits for that "active" connection only
// up to etcd's one-second bound and leaves it open. Both ends belong to etcd
// and are never closed, so without these ignores any test that runs a
// multi-member cluster would report them. The stores talk gRPC, not
// net/http, so the ignores hide none of their goroutines.
func LeakOptions() []goleak.Option {
	return []goleak.Option{
		goleak.IgnoreAnyFunction("net/http.(*persistConn).readLoop"),
		goleak.IgnoreAnyFunction("net/http.(*persistConn).writeLoop"),
		goleak.IgnoreAnyFunction("net/http.(*connReader).backgroundRead"),
		goleak.IgnoreAnyFunction("net/http.(*connReader).abortPendingRead"),
	}
}
