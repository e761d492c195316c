# TidalDB. `make help` lists the targets.

GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
FUZZTIME  ?= 10s
SOAK_DURATION ?= 30m

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

scale: ## 1M active series over remote-write, then the cardinality queries and series/label APIs: RSS per series and query times (not in CI); SERIES=N to change
	$(GO) run ./cmd/tidal-bench scale --series $(or $(SERIES),1000000)

gobench: ## Go benchmarks of the hot paths (go test -bench)
	$(GO) test -run '^$$' -bench . -benchmem ./...

soak: build ## soak test, not in CI: max remote-write rate, then SOAK_DURATION (30m) at 80% of it with queries; RSS and goroutines must stay flat
	$(GO) run ./cmd/tidal-soak -tidal bin/tidal -duration $(SOAK_DURATION)

lint: ## gofmt, go vet, tools/lint (staticcheck, errcheck, errorlint, depguard rules, ...)
	./scripts/lint.sh

clean: ## remove build output
	rm -rf bin

.PHONY: help build run deps test test-race fuzz-smoke bench bench-smoke scale gobench soak lint clean

# Grafana data-source plugin (plugins/grafana): its own Go module and npm
# package; `make plugin` lays out the directory Grafana loads in
# plugins/grafana/dist. PLUGIN_PLATFORMS="linux/amd64 linux/arm64
# darwin/arm64 windows/amd64" builds the backend for release platforms.
PLUGIN_DIR       := plugins/grafana
PLUGIN_PLATFORMS ?= $(shell $(GO) env GOOS)/$(shell $(GO) env GOARCH)

plugin: ## build the Grafana plugin into plugins/grafana/dist (module.js, plugin.json, gpx_tidaldb_<os>_<arch>)
	cd $(PLUGIN_DIR) && npm run build
	cd $(PLUGIN_DIR) && for p in $(PLUGIN_PLATFORMS); do \
		os=$${p%/*}; arch=$${p#*/}; ext=; [ $$os = windows ] && ext=.exe; \
		CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -trimpath -tags arrow_json_stdlib -ldflags "-w -s" \
			-o dist/gpx_tidaldb_$${os}_$${arch}$$ext ./pkg || exit 1; done
	sed -e 's/%VERSION%/$(VERSION)/' -e "s/%TODAY%/$$(date -u +%Y-%m-%d)/" $(PLUGIN_DIR)/src/plugin.json > $(PLUGIN_DIR)/dist/plugin.json
	mkdir -p $(PLUGIN_DIR)/dist/img && cp $(PLUGIN_DIR)/src/img/* $(PLUGIN_DIR)/dist/img/
	cp $(PLUGIN_DIR)/README.md LICENSE $(PLUGIN_DIR)/dist/

plugin-test: plugin ## the plugin's checks: Go vet and tests (end to end against tidal), type check, vitest
	cd $(PLUGIN_DIR) && $(GO) vet ./pkg/... && TIDAL_PLUGIN_BIN=$(CURDIR)/$(PLUGIN_DIR)/dist/gpx_tidaldb_$(shell $(GO) env GOOS)_$(shell $(GO) env GOARCH) $(GO) test -count=1 ./pkg/...
	cd $(PLUGIN_DIR) && npm run typecheck && npm test


.PHONY: plugin plugin-test
