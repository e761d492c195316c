# TidalDB. `make help` lists the targets.

GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
FUZZTIME  ?= 10s

.DEFAULT_GOAL := help

help: ## list the targets
	@grep -hE '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN{FS=":.*## "}{printf "  %-12s %s\n", $$1, $$2}'

build: ## build bin/tidal
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/tidal ./cmd/tidal

run: build ## start tidal server with embedded defaults (data in ./tidal-data, HTTP on 127.0.0.1:7490); ARGS='...' adds flags
	exec ./bin/tidal server $(ARGS)

deps: ## install what the tests need and this machine lacks (Go modules, Debian packages)
	./scripts/deps.sh

test: ## everything CI runs, with progress: deps, lint, all tests, race tests, fuzz smoke (scripts/test.sh)
	./scripts/test.sh

test-race: ## tests of the concurrent packages under the race detector
	./scripts/test.sh race

fuzz-smoke: ## run every Fuzz* target for FUZZTIME (default 10s)
	./scripts/fuzz-smoke.sh $(FUZZTIME)

bench: ## small TSBS presets (devops cpu-only, then iot) against TidalDB and every peer; writes bench-out/{report.md,iot/report.md}
	$(GO) run ./cmd/tidal-bench run --preset small --use-case cpu-only --driver promrw1 --peer victoriametrics,prometheus,influxdb --out bench-out
	$(GO) run ./cmd/tidal-bench run --preset small --use-case iot --driver promrw1 --peer victoriametrics,prometheus,influxdb --out bench-out/iot

bench-smoke: ## seconds-long TSBS preset against TidalDB and VictoriaMetrics
	$(GO) run ./cmd/tidal-bench run --preset smoke --peer victoriametrics --out bench-out/smoke

gobench: ## Go benchmarks of the hot paths (go test -bench)
	$(GO) test -run '^$$' -bench . -benchmem ./...

lint: ## gofmt, go vet, tools/lint (staticcheck, errcheck, errorlint, depguard rules, ...)
	./scripts/lint.sh

clean: ## remove build output
	rm -rf bin

.PHONY: help build run deps test test-race fuzz-smoke bench bench-smoke gobench lint clean
