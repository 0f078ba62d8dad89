# ringlay developer targets (`make help`). The product build is `npm install`; these are
# for development, sanitizers, fuzzing and benchmarks.
SHELL := /bin/bash
NODE ?= node
ASAN_PRELOAD = $(shell gcc -print-file-name=libasan.so):$(shell gcc -print-file-name=libubsan.so)
ASAN_ENV = LD_PRELOAD=$(ASAN_PRELOAD) ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 RINGLAY_NATIVE=$(CURDIR)/build/native-asan/ringlay.node
# Test files the ASan run covers (substrings of dist/test paths).
ASAN_SUITES ?= lib/transport lib/codec lib/relay/pipeline lib/log

.PHONY: help build debug asan test test-native fuzz bench crash-long lint clean

help:
	@echo "make build        addon (node-gyp) + TypeScript, as npm install does"
	@echo "make debug        addon with asserts and napi type checks -> build/native-debug"
	@echo "make asan         addon with ASan+UBSan -> build/native-asan, then run the native tests"
	@echo "                  and the JS suites matching ASAN_SUITES ($(ASAN_SUITES)) under it"
	@echo "make test         npm test (native tests under ASan, then every JS test)"
	@echo "make fuzz         libFuzzer targets (clang-16), FUZZ_SECONDS each (default 60)"
	@echo "make bench        benchmarks in bench/ (see bench/README.md)"
	@echo "make crash-long   the kill -9 crash test with 100 kills (npm test runs 10)"
	@echo "make lint         tsc --noEmit and the repository tidy checks"

build:
	npm run build

debug:
	$(NODE) scripts/build-native.mjs --mode debug

asan:
	$(NODE) scripts/build-native.mjs --mode asan --tests
	$(NODE) scripts/run-native-tests.mjs --mode asan
	npx tsc -p tsconfig.json
	$(ASAN_ENV) $(NODE) scripts/run-tests.mjs --js-only --no-tsc $(ASAN_SUITES)

test:
	npm test

test-native:
	$(NODE) scripts/run-native-tests.mjs

fuzz:
	$(NODE) scripts/fuzz.mjs

bench:
	npx tsc -p tsconfig.json
	$(NODE) scripts/run-bench.mjs

crash-long:
	npx tsc -p tsconfig.json
	RINGLAY_CRASH_KILLS=100 $(NODE) --test --test-reporter=spec dist/test/lib/relay/crash.test.js

lint:
	npx tsc -p tsconfig.json --noEmit
	$(NODE) scripts/tidy.mjs

clean:
	rm -rf build dist
