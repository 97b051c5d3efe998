// Command baldur-sync is the cross-cluster agent: one per cluster, it pulls
// the governance policies and propagation requests of every peer cluster
// into the local etcd (crosscluster.Replicator), optionally imports
// governance policies that operators edit in Consul KV, and serves
// /metrics, /healthz, /readyz and /status.
//
// Usage:
//
//	baldur-sync --cluster east --peer west=https://west-etcd:2379 --peer central=https://central-etcd:2379 \
//	    --etcd-endpoints https://east-etcd:2379 --etcd-ca ca.pem --etcd-cert east.pem --etcd-key east-key.pem
//	baldur-sync --config /etc/baldur/sync.yaml
//	baldur-sync demo [--keep]
//
// docs/AGENT.md lists every flag, environment variable and YAML key, the
// endpoints and the metrics.
//
// # Configuration
//
// Four layers, each overriding the fields it sets: defaults, the YAML file
// (--config or BALDUR_SYNC_CONFIG; unknown keys are errors, so a typo never
// falls back to a default silently), BALDUR_SYNC_* environment variables
// (set to "" still counts as set), then flags. The flag package's own
// defaults are not used for this: every flag defaults to "" and only the
// flags the user set (flag.Visit) are applied, which is what lets a flag
// override an environment variable without a default hiding the file.
// Peers given by flag (--peer, repeatable) or env (BALDUR_SYNC_PEERS,
// "name=ep1,ep2;name2=ep3") replace the file's list as a whole and take the
// shared --peer-ca/-cert/-key/-user/-password; the YAML file sets TLS and
// credentials per peer. Validation names the field of the first problem
// ("peers[1].name: ...").
//
// # Embedded etcd
//
// With no local endpoints the agent starts a single-member etcd in
// --data-dir (internal/embedetcd, lease checkpointing on) on
// --embed-client-url and --embed-peer-url; its peers point at that client
// URL. A restart on the same data dir resumes where it stopped: the
// replicator's checkpoints live in the same etcd as the data.
//
// # Shutdown
//
// SIGTERM or SIGINT cancels the replicator's context. The replicator runs
// each destination transaction on a context of its own, so the transaction
// in flight commits (with its checkpoint) before Run returns; then the
// Consul import stops, the HTTP server shuts down gracefully, the etcd
// clients close and the embedded etcd (if any) stops. The exit code is 0.
// A kill -9 instead loses nothing either: the checkpoint and the copy are
// written in one transaction, so a restart resumes exactly after the last
// committed source revision.
//
// # Consul import
//
// The import runs blocking List queries on the Consul KV prefix directly
// (hashicorp/consul/api) rather than through the consulconfig provider:
// consulconfig exposes a config tree through typed getters, while the
// import needs each raw key with its ModifyIndex, to validate one policy per
// key, report exactly the keys that are invalid, and skip the ones it has
// already handled. Each key is a JSON policy; its id is the key after the
// prefix (a policy_id inside must agree). A valid policy is written through
// etcdstore's CrossClusterStore with origin "consul" and, unless the value
// carries one, updated_at = now, so that an edit without a version bump
// still wins the replication merge everywhere. It is not written when the
// local copy has the same content or a higher version, so a restart does
// not rewrite (and re-replicate) every policy. Invalid keys are logged,
// counted (baldur_sync_consul_policies_invalid_total, and the gauge of
// currently invalid keys) and listed in /status; nothing in the import can
// stop the agent. A key deleted in Consul is not deleted from etcd: removing
// a governance policy everywhere is an explicit act (delete it in etcd).
//
// # Demo
//
// `baldur-sync demo` starts east, west and central in one process, each
// with an embedded etcd in a temporary directory (removed on exit) and an
// agent built exactly as the command builds it (StartAgent), so the demo
// exercises the production path. It watches the destination keys before
// writing, so the latencies it prints are from the write call to the watch
// event in the other cluster.
package main
