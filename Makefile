# signalscrape: see README.md. Every target says what it does.
GO ?= go
BIN := bin/signalscrape
PROTOC_GEN_GO_VERSION := v1.36.12
PROTOACTOR_DIR = $(shell $(GO) list -m -f '{{.Dir}}' github.com/asynkron/protoactor-go)

.PHONY: build run demo test test-race bench proto proto-check fmt vet

## build: compile bin/signalscrape
build:
	$(GO) build -o $(BIN) ./cmd/signalscrape

## proto: regenerate messages/*.pb.go with the pinned protoc-gen-go (needs Debian's protobuf-compiler)
proto:
	GOBIN=$(CURDIR)/bin $(GO) install google.golang.org/protobuf/cmd/protoc-gen-go@$(PROTOC_GEN_GO_VERSION)
	PATH=$(CURDIR)/bin:$$PATH protoc -I messages -I $(PROTOACTOR_DIR)/actor \
		--go_out=messages --go_opt=paths=source_relative \
		--go_opt=Mactor.proto=github.com/asynkron/protoactor-go/actor \
		messages/signalscrape.proto
