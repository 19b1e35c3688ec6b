# Bifrost. `make run` and `make test` are the whole set-up on a Debian 12 machine with Go:
# both install the Debian packages they need first (scripts/deps.sh).
GO      ?= go
BIN     := bin/bifrost
PKGS    := ./...
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.buildVersion=$(VERSION)

.PHONY: all build run test bench lint fuzz deps deps-run clean

all: build

build:
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/bifrost

## run: install what is missing, build, and start Bifrost on ./var (Ctrl-C stops it)
run: deps-run build
	./$(BIN) serve

## test: install what the tests need, then run every test with the race detector
test: deps
	$(GO) test -race -count=1 -timeout 20m $(PKGS)

## bench: the performance table, then the Go benchmarks (see README, Performance);
## under 15 minutes on 2 cores. BENCHSIZE scales each table round (1 = full),
## BENCHTIME is go test's -benchtime for the micro benchmarks.
BENCHSIZE ?= 0.6
BENCHTIME ?= 500ms
bench: deps
	$(GO) run ./cmd/benchtable -size $(BENCHSIZE)
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) -timeout 30m $(PKGS)

## fuzz: a short run of every fuzz target (FUZZTIME per target)
FUZZTIME ?= 20s
fuzz:
	@for pkg in $$($(GO) list $(PKGS)); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

## lint: formatting, go vet and staticcheck (pinned in go.mod as a tool)
lint: deps
	@unformatted=$$(find . \( -path ./var -o -path ./bin -o -path ./.git \) -prune -o -name '*.go' -print | xargs gofmt -l); \
	  if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GO) tool staticcheck $(PKGS)

## deps: the Debian packages for the tests (idempotent; a no-op when all are there)
deps:
	@scripts/deps.sh test

deps-run:
	@scripts/deps.sh run

clean:
	rm -rf bin
