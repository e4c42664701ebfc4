# recordvault: `make dev` runs the service on loopback, `make test` runs every test.
# Both build the pinned Vault and MinIO servers first when they are not cached (see README).

DATA_DIR           ?= .dev
HTTP_ADDR          ?= 127.0.0.1:8080
OPERATOR_ADDR      ?= 127.0.0.1:8090
# Vault's cluster listener takes VAULT_PORT+1 as well.
VAULT_PORT         ?= 8200
MINIO_PORT         ?= 9000
MINIO_CONSOLE_PORT ?= 9001
ISSUER_PORT        ?= 8081

# Ryuk, testcontainers' reaper, is an image we cannot pull; the tests terminate what they start.
# Containers are reached on localhost, not through the Docker bridge (see rvtest).
export TESTCONTAINERS_RYUK_DISABLED := true
export TESTCONTAINERS_HOST_OVERRIDE := localhost

GO_TEST_FLAGS ?=

.PHONY: dev test vet unit fuzz integration browser bench servers images clean-dev portal-screenshots

dev:
	@mkdir -p $(DATA_DIR)/bin
	go build -o $(DATA_DIR)/bin/recordvault ./cmd/recordvault
	go build -o $(DATA_DIR)/bin/recordvault-dev ./cmd/recordvault-dev
	go build -o $(DATA_DIR)/bin/recordvault-cli ./cmd/recordvault-cli
	@vault_bin=$$(deploy/servers/build.sh vault) && minio_bin=$$(deploy/servers/build.sh minio) && \
	exec $(DATA_DIR)/bin/recordvault-dev -data $(DATA_DIR) -http $(HTTP_ADDR) -operator $(OPERATOR_ADDR) \
		-vault-bin "$$vault_bin" -minio-bin "$$minio_bin" -server-bin $(DATA_DIR)/bin/recordvault \
		-vault-port $(VAULT_PORT) -minio-port $(MINIO_PORT) -minio-console-port $(MINIO_CONSOLE_PORT) \
		-issuer-port $(ISSUER_PORT)

test: images browser vet unit fuzz integration

vet:
	go vet ./...
	go vet -tags integration ./...

unit:
	go test -race -count=1 $(GO_TEST_FLAGS) ./...

# Each fuzz target runs briefly on every test run; go test -fuzz takes one target at a time.
# Budgets are counts of executions (about 3 to 6 s each here), not durations: a duration races
# Go 1.26's fuzz coordinator at its deadline and fails with a bare "context deadline
# exceeded" and no failing input (go.dev/issue/75804, fixed in Go 1.27).
FUZZ_SCALE ?= 1
fuzz:
	go test -run '^$$' -fuzz '^FuzzOpenStream$$' -fuzztime $$((200000 * $(FUZZ_SCALE)))x ./crypto
	go test -run '^$$' -fuzz '^FuzzOpenField$$' -fuzztime $$((500000 * $(FUZZ_SCALE)))x ./crypto
	go test -run '^$$' -fuzz '^FuzzParseManifest$$' -fuzztime $$((300000 * $(FUZZ_SCALE)))x ./records
	go test -run '^$$' -fuzz '^FuzzVerify$$' -fuzztime $$((100000 * $(FUZZ_SCALE)))x ./tokens

integration: images browser
	go test -tags integration -count=1 -timeout 30m $(GO_TEST_FLAGS) ./integration/... ./rvtest/...

# The recipient page's and the portal's tests drive Debian's chromium headless (chromedp), and
# the copies' pages are drawn by poppler's pdftoppm; install them when missing (as root, or
# through sudo).
browser:
	@{ command -v chromium && command -v pdftoppm; } >/dev/null 2>&1 || { \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends chromium poppler-utils; }

# The client portal's main pages as docs/portal/ shows them, taken by TestPortalInBrowser.
portal-screenshots: images browser
	RECORDVAULT_PORTAL_SCREENSHOTS=$(CURDIR)/docs/portal go test -tags integration -count=1 -run '^TestPortal(InBrowser|Representative)$$' ./integration

# The benchmarks behind docs/PERFORMANCE.md; measurements, not pass/fail, so not in `test`.
bench: images
	go test -tags integration -run '^$$' -bench 'BenchmarkNotes$$' -benchtime 5s ./integration
	go test -tags integration -run '^$$' -bench BenchmarkNotesRatio -benchtime 1x ./integration
	go test -tags integration -run '^$$' -bench 'BenchmarkAttachment$$' -benchtime 3x ./integration
	go test -tags integration -run '^$$' -bench BenchmarkAttachmentRatio -benchtime 1x ./integration
	go test -tags integration -run '^$$' -bench BenchmarkClientHistory -benchtime 1x -timeout 30m ./integration
	go test -tags integration -run '^$$' -bench BenchmarkClinicSize -benchtime 1x -timeout 30m ./integration
	go test -tags integration -run '^$$' -bench BenchmarkConcurrentFlows -benchtime 1x -timeout 30m ./integration
	go test -tags integration -run '^$$' -bench BenchmarkNotesHTTP -benchtime 1x -timeout 30m ./integration
	go test -tags integration -run '^$$' -bench BenchmarkAttachmentHTTP -benchtime 1x -timeout 30m ./integration

servers:
	deploy/servers/build.sh all

images:
	deploy/servers/images.sh

clean-dev:
	rm -rf $(DATA_DIR)
