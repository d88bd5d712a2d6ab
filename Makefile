# huntdesk: `make run` starts everything in one process; `make test` runs the
# whole suite (SQLite; set DATABASE_URL=postgres://… to run it on PostgreSQL).
export GOTOOLCHAIN := local
export CGO_ENABLED := 0

GO      ?= go
PKGS    ?= ./...
TIMEOUT ?= 20m

.PHONY: run build test test-postgres vet bench record-histories docker clean lint-openapi

run:
	$(GO) run ./cmd/huntdesk dev

build:
	$(GO) build -trimpath -o bin/huntdesk ./cmd/huntdesk

test:
	$(GO) test -count=1 -timeout $(TIMEOUT) $(PKGS)

test-postgres:
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable} $(GO) test -count=1 -timeout $(TIMEOUT) $(PKGS)

vet:
	$(GO) vet $(PKGS)

bench:
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

# Re-record the workflow histories that the replay tests replay (run after a
# deliberate, versioned change to a workflow).
record-histories:
	HUNTDESK_RECORD_HISTORIES=1 $(GO) test -count=1 -run TestRecordHistories ./e2e/

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
