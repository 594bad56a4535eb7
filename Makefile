# signalscrape: see README.md. `make help` lists the targets.
GO ?= go
BIN := bin/signalscrape
FIXTURES ?= ../shared/fixtures/signal
PROTOC_GEN_GO_VERSION := v1.36.12
PROTOACTOR_DIR = $(shell $(GO) list -m -f '{{.Dir}}' github.com/asynkron/protoactor-go)

# Packages that start no protoactor cluster in the test process: the race
# detector runs on them (actors/ runs its grains as plain local actors).
# protoactor-go has data races of its own (member and block lists, endpoint
# shutdown, a global gRPC logger) that -race reports on any test that starts
# a cluster, so cluster/ is tested without it.
RACE_PKGS = $(shell $(GO) list ./... | grep -v -e /cluster)
NORACE_PKGS = ./cluster/...

.PHONY: help build run demo test test-unit test-process fuzz bench proto proto-check lint chromium

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 16

build: ## compile bin/signalscrape
	$(GO) build -o $(BIN) ./cmd/signalscrape

run: build chromium ## start one node on http://127.0.0.1:8080 against the public SIGNAL site
	$(BIN) serve

demo: build ## start mock-signal on the fixtures and a node against it (offline)
	@echo "mock-signal on http://127.0.0.1:9000, node on http://127.0.0.1:8080 - open http://127.0.0.1:8080/"
	@echo "try: $(BIN) upload $(FIXTURES)/pcawg_ids_matched_DonorID.csv --wait --out matrix.csv"
	@trap 'kill 0' INT TERM EXIT; \
	$(BIN) mock-signal --addr 127.0.0.1:9000 --profiles $(FIXTURES)/profiles --latency 20ms-80ms & \
	$(BIN) serve --data-dir ./data/demo --source http \
		--source-url 'http://127.0.0.1:9000/sample/{id}.csv' \
		--min-interval 100ms --max-interval 300ms --max-concurrency 2; \
	wait

chromium: ## install Debian's chromium for the browser source when missing (needs root or sudo)
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else echo "chromium is missing: install it with 'sudo apt-get install chromium', or run the node with --source=http"; fi; }

test: lint test-unit fuzz test-process ## the whole suite: checks, unit tests with -race, short fuzzing, process tests

lint: proto-check ## gofmt, go vet
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v '\.pb\.go$$')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

test-unit: ## unit and package tests (race detector where the framework allows)
	$(GO) test -race -short -count=1 $(RACE_PKGS)
	$(GO) test -short -count=1 $(NORACE_PKGS)
	$(GO) test -count=1 -run '^TestParseMillionRows$$' ./http/upload

fuzz: ## a short run of each fuzz target
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime 10s ./profile
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime 10s ./http/upload

test-process: ## end-to-end tests with real processes, PostgreSQL and kill -9 (run alone: they measure gaps)
	$(GO) test -count=1 -v -timeout 10m -run 'TestSingleNode|TestCluster|TestWebUI|TestNoChromium|TestBrowserEvidence' ./cmd/signalscrape

# The micro-benchmarks, their time each, and flags for the end-to-end program
# (for example BENCH_ARGS='-scenarios machinery,cache -machinery-ids 2000').
BENCH_PKGS = ./actors ./http/upload ./persistence/... ./profile
BENCH_TIME ?= 200ms
BENCH_ARGS ?=

bench: build ## the benchmarks: Go micro-benchmarks, then the end-to-end table (also written to bench-results.md)
	@mkdir -p bin
	@$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCH_TIME) $(BENCH_PKGS) > bin/bench-micro.txt; \
	status=$$?; cat bin/bench-micro.txt; exit $$status
	$(GO) run ./cmd/signalscrape-bench -micro bin/bench-micro.txt $(BENCH_ARGS)

proto: ## regenerate messages/*.pb.go with the pinned protoc-gen-go (needs Debian's protobuf-compiler)
	GOBIN=$(CURDIR)/bin $(GO) install google.golang.org/protobuf/cmd/protoc-gen-go@$(PROTOC_GEN_GO_VERSION)
	PATH=$(CURDIR)/bin:$$PATH protoc -I messages -I $(PROTOACTOR_DIR)/actor \
		--go_out=messages --go_opt=paths=source_relative \
		--go_opt=Mactor.proto=github.com/asynkron/protoactor-go/actor \
		messages/signalscrape.proto

proto-check: ## check that the generated code matches the .proto (skipped without protoc)
	@if command -v protoc >/dev/null 2>&1; then \
	  $(MAKE) -s proto && git diff --exit-code --stat messages/ || { echo "messages/*.pb.go is stale: run make proto"; exit 1; }; \
	else echo "protoc not installed: generated code not checked (apt-get install protobuf-compiler)"; fi
