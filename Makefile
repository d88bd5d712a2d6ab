# huntdesk: `make run` starts everything in one process; `make test` runs the
# whole suite (SQLite; set DATABASE_URL=postgres://… to run it on PostgreSQL).
export GOTOOLCHAIN := local
export CGO_ENABLED := 0

GO      ?= go
PKGS    ?= ./...
TIMEOUT ?= 20m

.PHONY: run build test test-postgres test-faults vet bench bench-micro fuzz record-histories screenshots docker clean lint-openapi

run:
	$(GO) run ./cmd/huntdesk dev

build:
	$(GO) build -trimpath -o bin/huntdesk ./cmd/huntdesk

test:
	$(GO) test -count=1 -timeout $(TIMEOUT) $(PKGS)
	$(GO) test -run '^$$' -fuzz FuzzFilter -fuzztime 10s ./internal/odata/
	$(GO) test -run '^$$' -fuzz FuzzInputs -fuzztime 5s ./models/
	$(GO) test -run '^$$' -fuzz FuzzTopic -fuzztime 5s ./models/
	$(GO) test -run '^$$' -fuzz FuzzRecipients -fuzztime 5s ./internal/mail/

test-postgres:
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable} $(GO) test -count=1 -timeout $(TIMEOUT) $(PKGS)

# The fault suite (README, Reliability): huntdesk temporal, two APIs and a
# worker as processes on a fresh PostgreSQL database, under load, while it
# kills them, breaks SMTP, holds thousands of connections and restarts the
# local PostgreSQL cluster (HUNTDESK_FAULTS_PG_RESTART overrides the command).
# About three minutes; prints a summary table.
test-faults: build
	HUNTDESK_FAULTS=1 HUNTDESK_FAULTS_BIN=$(CURDIR)/bin/huntdesk $(GO) test -count=1 -v -timeout 15m -run '^TestFaults$$' ./e2e/faults/

vet:
	$(GO) vet $(PKGS)

# Explore the parsers and validators for longer than make test's short runs.
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzFilter -fuzztime 5m ./internal/odata/
	$(GO) test -run '^$$' -fuzz FuzzInputs -fuzztime 2m ./models/
	$(GO) test -run '^$$' -fuzz FuzzTopic -fuzztime 2m ./models/
	$(GO) test -run '^$$' -fuzz FuzzRecipients -fuzztime 2m ./internal/mail/

# The load harness (needs PostgreSQL; BENCH_FLAGS scales it down, e.g.
# BENCH_FLAGS="--rows 100000 --open 2000"): results in bench/results.
bench: build
	bin/huntdesk --log-format text bench $(BENCH_FLAGS)

# Go micro-benchmarks of single functions.
bench-micro:
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

# Record the workflow histories of today's code that workflows/testdata lacks
# (after a change behind workflow.GetVersion and a bump of historyVersion in
# e2e/histories_test.go). Existing histories are what released code did and
# are never overwritten; HUNTDESK_RERECORD=name[,name] replaces the named ones.
record-histories:
	HUNTDESK_RECORD_HISTORIES=1 $(GO) test -count=1 -run 'TestRecord.*Histor' ./e2e/

# The README's console screenshots, taken by the browser test (needs
# Debian's chromium: apt-get install chromium).
screenshots:
	HUNTDESK_BROWSER_TEST=require HUNTDESK_SCREENSHOTS=$(CURDIR)/docs/screenshots $(GO) test -count=1 -run TestConsoleInABrowser ./e2e/

# Optional: Redocly's recommended rules over the served contract (needs the
# linter installed once: npm install -g @redocly/cli). CI does not run it;
# api/contract_test.go checks the rules the document once broke, offline.
lint-openapi:
	@command -v redocly >/dev/null || { echo "redocly not found: npm install -g @redocly/cli"; exit 1; }
	redocly lint --extends recommended api/openapi.yaml

docker:
	docker build -f deploy/Dockerfile -t huntdesk .

clean:
	rm -rf bin .huntdesk
