# cws — developer commands. `make help` lists them.

GO          ?= go
BIN         := $(CURDIR)/bin
STATICCHECK := $(BIN)/staticcheck
BENCHSTAT   := $(BIN)/benchstat
GOTESTSUM   := $(BIN)/gotestsum
GOTESTSUM_VERSION := v1.13.0
# What the tests print (go test -json through gotestsum) and what their
# buffers hold (testutil.EnvOutputDir): `make secrets` scans it. The console
# gets go test -v's format (standard-verbose), "--- FAIL:" lines included,
# and gotestsum's summary of the failures at the end.
TEST_OUTPUT := $(BIN)/test-output
CFNLINT_VERSION     := 1.58.0
MAILPIT_VERSION     := v1.33.1
SCHEMATHESIS_VERSION := 4.32.5
MOTO_VERSION        := 5.2.5
JINJA2_VERSION      := 3.1.6
JINJA2_PYTHON := $(BIN)/jinja2-$(JINJA2_VERSION)/bin/python
MAILPIT     := $(BIN)/mailpit
# Chromium drives the admin dashboard's browser test: the one on the PATH,
# else Debian's package, which `make chromium` installs.
CHROMIUM    ?= $(or $(shell command -v chromium 2>/dev/null),$(shell command -v chromium-browser 2>/dev/null),/usr/bin/chromium)
# wrk drives the load test (bench/load_test.go) and the soak: the one on the
# PATH, else Debian's package, which `make wrk` installs.
WRK         ?= $(or $(shell command -v wrk 2>/dev/null),/usr/bin/wrk)
SOAK        ?= 10m
SUDO        := $(if $(filter 0,$(shell id -u)),,sudo)
CFNLINT     := $(BIN)/cfn-lint-$(CFNLINT_VERSION)/bin/cfn-lint
SCHEMATHESIS := $(BIN)/schemathesis-$(SCHEMATHESIS_VERSION)/bin/schemathesis
# moto's server: the DynamoDB the durable idempotency store is tested
# against (LocalStack's DynamoDB downloads Java at first use: not offline).
MOTO_SERVER := $(BIN)/moto-$(MOTO_VERSION)/bin/moto_server
STATICCHECK_VERSION := v0.8.2
BENCHSTAT_VERSION   := v0.0.0-20260908200009-22c9c6c9d4da
ADDR        ?= 127.0.0.1:8080
BENCH_COUNT ?= 10
# Budgets are execution counts, not durations: with a duration go1.26's fuzz
# coordinator can report "context deadline exceeded" as a failure when the
# deadline meets a busy worker (golang/go#75804, fixed in Go 1.27), and a count
# has no deadline to race. 20000x takes 1-3 s a target here.
FUZZTIME    ?= 300000x
FUZZTIME_SHORT ?= 20000x
# Every fuzz target, as package-dir:FuzzName: `make fuzz` runs each for
# $(FUZZTIME), `make unit` each for $(FUZZTIME_SHORT).
FUZZ_TARGETS = $(shell grep -rHo --include='*_test.go' --exclude-dir=bench --exclude-dir=bin '^func Fuzz[A-Za-z0-9_]*' . | sed -E 's|^(.*)/[^/]*_test\.go:func |\1:|' | sort)
fuzz-each = @for t in $(FUZZ_TARGETS); do \
	  pkg=$${t%%:*}; f=$${t\#\#*:}; \
	  echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(1) $$pkg || exit 1; \
	done

.PHONY: help run test lint unit integration localstack localstack-stop tools chromium screenshots wrk cws gen bench soak fuzz fuzz-short secrets clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

run: cws ## serve examples/crud on $(ADDR) with the embedded default (no AWS)
	$(BIN)/cws run ./examples/crud --addr $(ADDR)

test: lint unit integration secrets ## run every check and test (what CI runs)

lint: tools ## go.mod tidy, gofmt, go vet, staticcheck
	$(GO) mod tidy -diff
	cd bench && $(GO) mod tidy -diff
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet -tags integration,cwsopenapi,cwscommands ./...
	$(STATICCHECK) -tags integration,cwsopenapi,cwscommands ./...
	cd bench && $(GO) vet ./... && $(STATICCHECK) ./...

unit: tools $(CHROMIUM) $(WRK) ## unit, example, fuzz-seed and end-to-end tests, with the race detector (templates through cfn-lint, the dashboard in Chromium), then every fuzz target for $(FUZZTIME_SHORT)
	rm -rf $(TEST_OUTPUT)/unit && mkdir -p $(TEST_OUTPUT)/unit
	CHROMIUM=$(CHROMIUM) CFN_LINT=$(CFNLINT) MAILPIT=$(MAILPIT) SCHEMATHESIS=$(SCHEMATHESIS) MOTO_SERVER=$(MOTO_SERVER) CWS_TEST_OUTPUT=$(TEST_OUTPUT)/unit \
	  $(GOTESTSUM) --format standard-verbose --jsonfile $(TEST_OUTPUT)/unit/all.json -- -race -count=1 ./...
	CWS_TEST_OUTPUT=$(TEST_OUTPUT)/unit $(GOTESTSUM) --format standard-verbose --jsonfile $(TEST_OUTPUT)/unit/admin-openapi.json -- -race -count=1 -tags cwsopenapi ./blueprint/admin/
	cd bench && WRK=$(WRK) CWS_TEST_OUTPUT=$(TEST_OUTPUT)/unit $(GOTESTSUM) --format standard-verbose --jsonfile $(TEST_OUTPUT)/unit/bench.json -- -race -count=1 ./...
	cd bench && WRK=$(WRK) CWS_TEST_OUTPUT=$(TEST_OUTPUT)/unit $(GOTESTSUM) --format standard-verbose --jsonfile $(TEST_OUTPUT)/unit/load.json -- -count=1 -run '^TestLoad$$' .
	$(MAKE) fuzz-short

# The integration tests get LocalStack from LOCALSTACK_ENDPOINT, Docker
# (testcontainers) or a host process they install and start (see README).
integration: tools ## integration tests against a real LocalStack (started for the run if none is given) and Mailpit
	rm -rf $(TEST_OUTPUT)/integration && mkdir -p $(TEST_OUTPUT)/integration
	MAILPIT=$(MAILPIT) MOTO_SERVER=$(MOTO_SERVER) CWS_TEST_OUTPUT=$(TEST_OUTPUT)/integration \
	  $(GOTESTSUM) --format standard-verbose --jsonfile $(TEST_OUTPUT)/integration/integration.json -- -tags integration -race -count=1 -timeout 30m ./integration/

secrets: ## scan what unit and integration printed and logged for the tests' secrets (internal/testutil.Secrets): none may appear
	$(GO) run ./internal/scansecrets $(TEST_OUTPUT)/unit
	$(GO) run ./internal/scansecrets $(TEST_OUTPUT)/integration

localstack: cws ## install (once) and start a LocalStack host process in the background
	$(BIN)/cws localstack start

localstack-stop: cws ## stop the LocalStack host process
	$(BIN)/cws localstack stop

cws: ## build the cws command into bin/
	$(GO) build -buildvcs=auto -o $(BIN)/cws ./cmd/cws

gen: cws ## regenerate the description files (cws_gen.go): the examples' services, the blueprints, the benchmark service
	$(BIN)/cws gen ./...
	cd bench && $(BIN)/cws gen .Service

tools: $(STATICCHECK) $(BENCHSTAT) $(GOTESTSUM) $(CFNLINT) $(MAILPIT) $(SCHEMATHESIS) $(MOTO_SERVER) ## install the pinned tools into bin/ (cfn-lint, schemathesis and moto's server from PyPI, in venvs; Mailpit, a real SMTP server for the tests)

$(STATICCHECK):
	GOBIN=$(BIN) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

$(GOTESTSUM):
	GOBIN=$(BIN) $(GO) install gotest.tools/gotestsum@$(GOTESTSUM_VERSION)

$(CFNLINT):
	rm -rf $(BIN)/cfn-lint-$(CFNLINT_VERSION)
	python3 -m venv $(BIN)/cfn-lint-$(CFNLINT_VERSION)
	$(BIN)/cfn-lint-$(CFNLINT_VERSION)/bin/pip install --quiet --disable-pip-version-check cfn-lint==$(CFNLINT_VERSION)

$(JINJA2_PYTHON):
	rm -rf $(BIN)/jinja2-$(JINJA2_VERSION)
	python3 -m venv $(BIN)/jinja2-$(JINJA2_VERSION)
	$(BIN)/jinja2-$(JINJA2_VERSION)/bin/pip install --quiet --disable-pip-version-check jinja2==$(JINJA2_VERSION)

$(SCHEMATHESIS):
	rm -rf $(BIN)/schemathesis-$(SCHEMATHESIS_VERSION)
	python3 -m venv $(BIN)/schemathesis-$(SCHEMATHESIS_VERSION)
	$(BIN)/schemathesis-$(SCHEMATHESIS_VERSION)/bin/pip install --quiet --disable-pip-version-check schemathesis==$(SCHEMATHESIS_VERSION)

$(MOTO_SERVER):
	rm -rf $(BIN)/moto-$(MOTO_VERSION)
	python3 -m venv $(BIN)/moto-$(MOTO_VERSION)
	$(BIN)/moto-$(MOTO_VERSION)/bin/pip install --quiet --disable-pip-version-check 'moto[server]==$(MOTO_VERSION)'

$(MAILPIT):
	GOBIN=$(BIN) $(GO) install github.com/axllent/mailpit@$(MAILPIT_VERSION)

chromium: $(CHROMIUM) ## install Chromium (Debian's chromium package) when it is missing, for the dashboard's browser test

$(CHROMIUM):
	$(SUDO) apt-get update
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium

screenshots: $(CHROMIUM) ## regenerate the dashboard's screenshots (docs/img/admin-*.png) in Chromium, against cws run ./examples/biz
	CHROMIUM=$(CHROMIUM) CWS_SCREENSHOTS=$(CURDIR)/docs/img $(GO) test -count=1 -run '^TestAdminDashboard$$' ./cmd/cws

wrk: $(WRK) ## install wrk (Debian's wrk package) when it is missing, for the load test and the soak

$(WRK):
	$(SUDO) apt-get update
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y wrk

$(BENCHSTAT):
	GOBIN=$(BIN) $(GO) install golang.org/x/perf/cmd/benchstat@$(BENCHSTAT_VERSION)

# The implementations are interleaved: BENCH_COUNT passes of one run each, so
# that drift on a busy machine spreads over all of them. The SQS benchmarks
# use a LocalStack daemon, started here when none runs and stopped after.
bench: $(BENCHSTAT) $(JINJA2_PYTHON) cws ## run the benchmarks (interleaved, SQS and Step Functions on LocalStack, Jinja2 timed beside the Templates service) and compare them with benchstat
	cd bench && $(GO) test -c -o $(BIN)/bench.test .
	rm -f bench/results.txt
	@if $(BIN)/cws localstack status >/dev/null 2>&1; then started=; else $(BIN)/cws localstack start >/dev/null || exit 1; started=1; fi; \
	for i in $$(seq $(BENCH_COUNT)); do \
	  (cd bench && $(BIN)/bench.test -test.run '^$$' -test.bench . -test.benchmem -test.count 1 -test.timeout 30m) | tee -a bench/results.txt || { [ -n "$$started" ] && $(BIN)/cws localstack stop; exit 1; }; \
	  $(JINJA2_PYTHON) bench/jinja/render.py services/templates/testdata/jinja-conformance.json | tee -a bench/results.txt || exit 1; \
	done; \
	if [ -n "$$started" ]; then $(BIN)/cws localstack stop >/dev/null; fi
	$(BENCHSTAT) -col /impl bench/results.txt

soak: $(WRK) ## not in CI: $(SOAK) of wrk against cws's local server and its async door, memory and goroutines sampled, asserted flat
	cd bench && WRK=$(WRK) LOAD_SOAK=$(SOAK) $(GO) test -count=1 -run '^TestSoak$$' -v -timeout 30m .

fuzz: ## run every fuzz target for $(FUZZTIME)
	$(call fuzz-each,$(FUZZTIME))

fuzz-short: ## run every fuzz target for $(FUZZTIME_SHORT) (part of unit)
	$(call fuzz-each,$(FUZZTIME_SHORT))

clean: ## remove bin/ and benchmark results
	rm -rf $(BIN) bench/results.txt
