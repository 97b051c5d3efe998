// Package registry is Baldur's provider registry: one Slot per contract,
// holding named factories and the instances they built, and a Registry
// struct with a slot for every contract of the root package (governance,
// admin identity, runtime config, config, sessions, health, the four domain
// stores and the service protocols).
//
// The usual call path:
//
//	reg := registry.New() // keep it in your application's wiring
//	reg.DLQ.Register("etcd", func(ctx context.Context) (baldur.DLQService, error) {
//		repo, err := reg.DLQRepository.Get(ctx, "") // pass ctx on
//		if err != nil {
//			return nil, err
//		}
//		return newDLQ(repo), nil
//	})
//	dlq, err := reg.DLQ.Get(ctx, "") // "" is the default: the first registered
//
// # Semantics (CONTRACT.md)
//
// Register overwrites a name (and drops the instance the old factory built);
// the first name registered becomes the default, which Get("") resolves. Get
// builds an instance once and caches it; concurrent Gets of one name wait
// for that one build and share its result. An unknown name is
// baldur.ErrAdapterNotFound, wrapped with the contract and the name. A
// failing factory's error is returned and nothing is cached, so the next Get
// tries again. SafeGet returns the zero value (nil for the interface slots)
// and a nil error only when the name is not registered; a failing factory's
// error, even one that wraps ErrAdapterNotFound because the factory itself
// needed a missing dependency, is still returned. ClearInstances keeps the
// registrations; Reset drops everything (Registry.Reset puts the no-op
// governance checker back, as New has it). A factory's result, a nil
// interface included, is cached as it is.
//
// # Why Slot is generic and there is no global registry
//
// The Python ProviderRegistry is a module-level singleton with untyped
// slots. In Go a Slot[T] hands out the contract's interface type, so no
// caller type-asserts, and Registry is a plain struct that New builds: two
// registries never share state, tests build their own, and nothing is
// mutable at package level.
//
// # Cycle detection
//
// A factory that resolves its own slot and name, directly or through other
// slots, would wait forever on its own build. Get prevents it in two ways:
//
//   - The context handed to a factory carries a mark: the chain of builds in
//     progress (the slot and name of each). Get walks the chain before
//     it builds or waits; finding the requested slot and name there is
//     ErrCycle, with the chain in the message ("alpha "x" -> beta "y" ->
//     alpha "x""). This covers every cycle that stays in one goroutine, or
//     in goroutines the factory starts with its context.
//   - Builds in different goroutines can still close a cycle: A's factory
//     waits on B, whose factory (another caller's goroutine) waits on A.
//     Each build is a node of a wait-for graph; before waiting, Get adds
//     the edge "my build waits on that build" and searches the graph from
//     the build it would wait on. Reaching its own build is ErrCycle. The
//     edge is added before the search, under the nodes' locks, so of two
//     goroutines closing a cycle at the same moment at least one sees it.
//
// A factory that calls Get with a context not derived from the one it got
// (context.Background, say) drops the mark; a cycle through it cannot be
// seen and deadlocks as it would without a registry. Waiting for another
// goroutine's build ends when the caller's context is done. A mark whose
// build has finished no longer counts, so a goroutine the factory started
// with its context may use the slot after the factory returned.
//
// Locks are never held while a factory runs, so factories may use any slot,
// including their own slot under other names. If the build a caller waited
// for failed only because its builder's context ended, a caller whose own
// context is still alive builds again rather than inheriting someone else's
// cancellation. A factory that panics releases its waiters with an error
// and the panic continues in the goroutine that ran it. A build that started
// before ClearInstances, Reset or an overwriting Register returns its result
// to its callers but does not cache it.
//
// golang.org/x/sync/singleflight does the "one build, many waiters" part
// but knows nothing of cycles, of not caching failures, or of builder
// cancellation; the few lines it would save are not worth a dependency.
package registry
