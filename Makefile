# runsc-lite build, install and test entry points. See BUILD.md.

SHELL := /bin/bash
GO ?= $(shell command -v go 2>/dev/null || echo /usr/local/go/bin/go)
PREFIX ?= /usr/local
BIN := bin/runsc-lite
# go test -timeout applies to each test binary.
TEST_TIMEOUT ?= 30m
TEST_FLAGS ?=

# Debian packages the build and the tests need (tool to look for: package).
DEB_TOOLS := busybox:busybox-static python3:python3 gcc:gcc make:make git:git dockerd:docker.io

.PHONY: all build install deps test vet bench clean syscalls syscalls-doc

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN) ./runsc-lite

# Install the Debian packages that are missing; apt-get runs only if one is.
# busybox-static is checked by package (a dynamic busybox is not enough:
# tests run it in sandboxes without a dynamic loader).
deps:
	@missing=""; \
	for tp in $(DEB_TOOLS); do \
		tool=$${tp%%:*}; pkg=$${tp##*:}; \
		if [ "$$pkg" = busybox-static ]; then \
			dpkg-query -W -f='$${Status}' busybox-static 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$pkg"; \
		else \
			command -v $$tool >/dev/null 2>&1 || missing="$$missing $$pkg"; \
		fi; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

install: deps build
	install -D -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/runsc-lite

vet:
	$(GO) vet ./...

# The README's test command. Test packages run in parallel (go test's
# default -p); tests that cannot share the machine serialize themselves.
# RUNSC_LITE_BINARY points tests that run the CLI at the fresh build.
# -count=1: go test's cache cannot see that binary (dockerd runs it, not
# the test), so a cached pass could be of an older build.
test: deps build vet
	RUNSC_LITE_BINARY=$(CURDIR)/$(BIN) $(GO) test -count=1 -timeout $(TEST_TIMEOUT) $(TEST_FLAGS) ./...

# The conformance suite alone (test/syscalls); narrow it with
# SYSCALLS_RUN='TestConformance/suite/files/' and SYSCALLS_FLAGS=-v.
SYSCALLS_RUN ?= TestConformance
syscalls: deps build
	RUNSC_LITE_BINARY=$(CURDIR)/$(BIN) $(GO) test -count=1 -timeout $(TEST_TIMEOUT) -run '$(SYSCALLS_RUN)' $(SYSCALLS_FLAGS) ./test/syscalls

# docs/syscalls.md is generated from the syscall table; a test in
# runsc-lite/ fails when it differs from what the command prints.
syscalls-doc: build
	mkdir -p docs
	$(BIN) syscalls --format markdown > docs/syscalls.md

# Benchmarks (bench/): a main package is run, a test package benchmarked.
bench: deps build
	@srcs=$$(ls bench/*.go 2>/dev/null | grep -v '_test\.go$$' || true); \
	if [ ! -d bench ]; then exit 0; fi; \
	if [ -n "$$srcs" ] && grep -qs '^package main' $$srcs; then \
		RUNSC_LITE_BINARY=$(CURDIR)/$(BIN) $(GO) run ./bench; \
	else \
		RUNSC_LITE_BINARY=$(CURDIR)/$(BIN) $(GO) test -run '^$$' -bench . -timeout $(TEST_TIMEOUT) ./bench/...; \
	fi

clean:
	rm -rf bin
