# baldur-go: build, test and measure.
#   make test   vet + every test with -race (builds the Consul agent first)
#   make run    the baldur-sync demo: three clusters in one process
SHELL        := /bin/bash
GO           ?= go
export GOTOOLCHAIN := local
BIN          := $(CURDIR)/bin
CONSUL_BIN   := $(BIN)/consul
export BALDUR_CONSUL_BIN := $(CONSUL_BIN)
TEST_TIMEOUT ?= 24m
FUZZTIME     ?= 20s

.PHONY: all test vet lint fmt tidy-check run build consul bench fuzz clean

all: build

build:
	$(GO) build ./...
	$(GO) build -o $(BIN)/baldur-sync ./cmd/baldur-sync

# The Consul agent the consulconfig and sync tests run against, built from the
# pinned tools module (tools/consul) when it is missing. Its go.sum is committed
# and complete: -mod=readonly fails rather than look anything up, so no
# checksum-database lookup happens. GONOSUMDB covers the two hashicorp modules
# missing from that database, for whoever regenerates go.sum with
#   cd tools/consul && GONOSUMDB=github.com/hashicorp GOFLAGS=-mod=mod go mod tidy
consul: $(CONSUL_BIN)

$(CONSUL_BIN): tools/consul/go.mod tools/consul/go.sum
	@mkdir -p $(BIN)
	cd tools/consul && GOFLAGS="-mod=readonly -buildvcs=false" GONOSUMDB=github.com/hashicorp \
		$(GO) build -o $(CONSUL_BIN) github.com/hashicorp/consul
	@$(CONSUL_BIN) version | head -1

vet:
	$(GO) vet ./...

# -parallel 64: the conformance suite's cases are t.Parallel and mostly wait out real
# TTLs on etcd; the default (GOMAXPROCS = 2 on CI) would run them two at a time.
test: consul vet
	$(GO) test -race -parallel 64 -timeout $(TEST_TIMEOUT) ./...

lint: vet
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt: $$out"; exit 1; fi
	@$(GO) mod tidy -diff

run:
	$(GO) run ./cmd/baldur-sync demo

# The commands behind docs/PERFORMANCE.md, one line per section (about 10 minutes).
bench: consul
	$(GO) test -run '^$$' -bench . -benchmem ./config/ ./registry/ ./memstore/
	$(GO) test -run '^$$' -bench . -benchtime 2s ./etcdstore/
	$(GO) test -run '^$$' -bench BenchmarkPropagation -benchtime 1000x -count 3 ./crosscluster/
	$(GO) test -run '^$$' -bench BenchmarkResync -benchtime 5x -count 3 ./crosscluster/
	$(GO) test -run '^$$' -bench BenchmarkGetters -benchmem ./consulconfig/
	$(GO) test -run '^$$' -bench BenchmarkEditToVisible -benchtime 200x -count 3 ./consulconfig/
	$(GO) test -run '^$$' -bench '^BenchmarkSyncAgentRSS' -benchtime 1x -count 3 ./test/integration/

# Each native fuzz target for a bounded time.
fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; done

clean:
	rm -rf $(BIN)
