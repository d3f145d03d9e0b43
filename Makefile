# lkvol: `make example` builds the bundled example, `make test` checks format and lint and runs every test (installing
# what it needs).
SHELL := /bin/bash
NODE ?= node
TSC := node_modules/.bin/tsc
UNIT_TESTS = $(shell find dist -name '*.test.js' ! -name '*.integration.test.js' 2>/dev/null | sort)
INTEGRATION_TESTS = $(shell find dist -name '*.integration.test.js' 2>/dev/null | sort)

.PHONY: all deps node-deps debian-deps bench-deps build check format format-check lint typecheck unit test test-integration example example-sources golden bench linuxkit-corpus clean

all: build

deps: node-deps debian-deps

node-deps: node_modules/.package-lock.json

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

debian-deps:
	@bash .ci/debian-deps.sh

# debootstrap, /usr/bin/time and curl: needed by `make bench` only.
bench-deps:
	@bash .ci/bench-deps.sh

# The lkvol command runs one bundled file: loading ~330 modules one by one costs ~110 ms of every run.
# It is CommonJS (dist/bundle/lkvol.cjs, run by cmd/start.cjs with the V8 code cache written here:
# compiling the bundle costs another ~50 ms); import.meta.url becomes the bundle's own URL. `undici` is
# cmd/undici-slim.cjs there: its dispatchers without the rest of undici (-30 ms and -9 MB at each start).
# The zstd and fingerprint workers are entries of their own, beside it, as zstd.ts and fingerprints.ts expect: CommonJS
# too (dist/bundle/package.json says so for its .js files), as a worker starts ~8 ms sooner without Node's ESM loader.
build: node-deps
	rm -rf dist
	$(TSC) -p tsconfig.json
	node_modules/.bin/esbuild dist/cmd/lkvol.js --bundle --platform=node --format=cjs --target=node20 \
	  --outfile=dist/bundle/lkvol.cjs --external:@napi-rs/xattr --alias:undici=./cmd/undici-slim.cjs --alias:node:http2=./cmd/http2-lazy.cjs --log-level=warning --define:import.meta.url=lkvolBundleUrl \
	  --banner:js="const lkvolBundleUrl = require('node:url').pathToFileURL(__filename).href;"
	node_modules/.bin/esbuild dist/lib/layer/zstd-worker.js dist/lib/build/fingerprint-worker.js --bundle --platform=node --format=cjs \
	  --target=node20 --outdir=dist/bundle --entry-names=[name] --log-level=warning
	echo '{ "type": "commonjs" }' > dist/bundle/package.json
	cp cmd/start.cjs dist/bundle/start.cjs
	LKVOL_CODE_CACHE=write $(NODE) --max-semi-space-size=4 dist/bundle/start.cjs validate examples/web.yml >/dev/null

# Prettier (.prettierrc.json) over the TypeScript, the loader and the ESLint config; `make format` rewrites, CI only checks.
PRETTIER_FILES = 'cmd/**/*.{ts,cjs}' 'lib/**/*.ts' 'examples/**/*.ts' eslint.config.js
format: node-deps
	node_modules/.bin/prettier --log-level warn --write $(PRETTIER_FILES)

format-check: node-deps
	node_modules/.bin/prettier --log-level warn --check $(PRETTIER_FILES)

# ESLint (eslint.config.js): the type-checked promise rules, max-len 120, options objects past three parameters,
# lib/'s one door to the process and the import boundaries of STYLE.md section 2.
lint: node-deps
	node_modules/.bin/eslint --max-warnings 0 cmd lib examples

typecheck: node-deps
	$(TSC) -p tsconfig.json --noEmit

unit: build
	bash .ci/as-root.sh $(NODE) --test --enable-source-maps $(UNIT_TESTS)

check: format-check lint typecheck unit

test-integration: deps build
	bash .ci/as-root.sh $(NODE) --test --enable-source-maps $(INTEGRATION_TESTS)

# The whole suite: the format and lint checks, then unit and integration tests against a real registry on 127.0.0.1,
# as root (.ci/as-root.sh: through sudo when another user runs it).
test: deps format-check lint build
	bash .ci/as-root.sh $(NODE) --test --enable-source-maps $(UNIT_TESTS) $(INTEGRATION_TESTS)

# Starts a registry on loopback, pushes the example's images, builds examples/web.yml and prints the tree;
# then, with the registry stopped, builds examples/airgap.yml offline from the local images in examples/sources/.
example: deps build
	$(NODE) --enable-source-maps dist/examples/run.js

# Rewrites examples/sources/ (an OCI layout and a docker-archive of the example images) with skopeo.
example-sources: deps build
	$(NODE) --enable-source-maps dist/examples/run.js --write-sources

# lkvol against skopeo copy + umoci unpack on a Debian minbase and a 500 MB synthetic image (README "Benchmark").
# Takes several minutes; BENCH_RUNS=N sets the rounds (default 3). Not part of `make test` or CI.
bench: deps build bench-deps
	$(NODE) --enable-source-maps dist/lib/internal/testing/bench/run.js

golden: build
	UPDATE_GOLDEN=1 $(NODE) --test $(UNIT_TESTS)

# Regenerate testdata/linuxkit from a LinuxKit checkout (testdata/linuxkit/README.md): the oracle (needs Go 1.23,
# testdata/linuxkit/oracle/README.md) writes the labels `linuxkit pkg build` gives, the generator the corpus, the
# oracle again the specs LinuxKit writes. Not part of `make test`: the results are committed.
LINUXKIT_ORACLE ?= .build/lkvol-oracle
linuxkit-corpus: build
	@test -n "$(LINUXKIT)" -a -n "$(LINUXKIT_COMMIT)" || { echo 'usage: make linuxkit-corpus LINUXKIT=<checkout> LINUXKIT_COMMIT=<full hash>' >&2; exit 2; }
	LINUXKIT_COMMIT=$(LINUXKIT_COMMIT) testdata/linuxkit/oracle/build.sh $(LINUXKIT) $(LINUXKIT_ORACLE)
	$(LINUXKIT_ORACLE) labels --linuxkit $(LINUXKIT) --out testdata/linuxkit/labels.json
	$(NODE) dist/lib/internal/testing/linuxkit/corpus.js --linuxkit $(LINUXKIT) --out testdata/linuxkit --commit $(LINUXKIT_COMMIT) --labels testdata/linuxkit/labels.json
	rm -rf testdata/linuxkit/expected
	$(LINUXKIT_ORACLE) specs --systems testdata/linuxkit/systems --builds testdata/linuxkit/builds.json --images testdata/linuxkit/images.json --out testdata/linuxkit/expected

clean:
	rm -rf dist .build out
