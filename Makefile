# The README's commands. Works on a fresh Debian 12 machine with Python 3.11, as root (or with sudo).
#
#   make demo    install the hub and run the demo region on http://127.0.0.1:5000
#   make test    install the test services (Debian packages) and run the whole test suite
#   make bench   run the benchmarks in bench/ (not part of CI: they take minutes)
#
# Variables: BOOTSTRAP_PYTHON (the Python that creates .venv), PYTEST_ARGS (extra pytest arguments),
# DEMO_ARGS (extra `jeugdhub demo` arguments, e.g. DEMO_ARGS="--port 5001").

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

# Everything installs into a project virtual environment, .venv, whatever Python runs make: its
# console scripts (.venv/bin/node-agent, .venv/bin/jeugdhub) then sit at one known place, with no
# PATH or `pyenv rehash` needed. BOOTSTRAP_PYTHON only creates it.
BOOTSTRAP_PYTHON ?= python3
VENV := .venv
PYTHON := $(VENV)/bin/python
PIP := $(PYTHON) -m pip --disable-pip-version-check
PYTEST_ARGS ?=
DEMO_ARGS ?=

# Debian packages the tests start or call: redis-server and PostgreSQL 15 (real services, started
# by tests/conftest.py), Chromium + ChromeDriver (browser tests), poppler-utils (PDF → PNG), fonts
# and Pango (WeasyPrint renders the PDF factsheets; Chromium renders pages), systemd-analyze
# (checks the agent's units), npm (installs axe-core for the accessibility tests).
APT_PACKAGES := redis-server postgresql chromium chromium-driver poppler-utils \
	fonts-dejavu-core fonts-liberation libpango-1.0-0 libpangoft2-1.0-0 systemd
# npm only where no npm is installed (a Node.js from elsewhere brings its own, and Debian's npm
# package would conflict with it).
ifeq ($(shell command -v npm 2>/dev/null),)
APT_PACKAGES += npm
endif
# A Debian-managed Python needs its venv module (and headers for the few packages that compile).
ifeq ($(shell $(BOOTSTRAP_PYTHON) -c 'import ensurepip' 2>/dev/null && echo yes),)
APT_PACKAGES += python3-venv python3-dev
endif

# Install stamps live under build/ (git-ignored); a changed pyproject.toml reinstalls.
STAMPS := build/make

.PHONY: help demo test bench system-packages install-hub install-test

help:
	@echo "make demo   - install the hub and run the demo region (http://127.0.0.1:5000)"
	@echo "make test   - install the test services and run all tests"
	@echo "make bench  - run the benchmarks in bench/"

demo: install-hub
	$(PYTHON) -c 'from hub.cli.main import main; main(prog_name="jeugdhub")' demo $(DEMO_ARGS)

test: system-packages install-test axe-core oidc-provider
	@# pytest exits 5 when it collected no tests: that is a failure here, not a pass.
	$(PYTHON) -m pytest $(PYTEST_ARGS) || { rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests" >&2; fi; exit $$rc; }

# Every bench/<part>/bench_*.py or run_*.py, each as a script; a missed target fails, after all ran.
bench: install-test
	@failed=""; scripts=$$(find bench -path bench/out -prune -o \( -name 'bench_*.py' -o -name 'run_*.py' \) -print | sort); \
	if [ -z "$$scripts" ]; then echo "make bench: no bench/**/bench_*.py or run_*.py found" >&2; exit 1; fi; \
	for f in $$scripts; do echo "== $$f"; $(PYTHON) "$$f" || failed="$$failed $$f"; done; \
	if [ -n "$$failed" ]; then echo "make bench: failed:$$failed" >&2; exit 1; fi

# axe-core (npm) for the accessibility browser tests, into build/axe (git-ignored); the tests fail without it.
AXE_JS := build/axe/node_modules/axe-core/axe.min.js
.PHONY: axe-core
axe-core: $(AXE_JS)
$(AXE_JS):
	npm install --prefix build/axe --no-audit --no-fund axe-core@4

# oidc-provider (npm): the real OpenID Connect provider tests/oidc starts, into build/oidc (git-ignored).
OIDC_JS := build/oidc/node_modules/oidc-provider/lib/index.js
.PHONY: oidc-provider
oidc-provider: $(OIDC_JS)
$(OIDC_JS):
	npm install --prefix build/oidc --no-audit --no-fund oidc-provider@8

# apt-get update and install only when a package is missing, so a prepared machine pays nothing.
system-packages:
	@missing=""; for p in $(APT_PACKAGES); do \
	  [ "$$(dpkg-query -W -f='$${db:Status-Status}' "$$p" 2>/dev/null)" = installed ] || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  sudo=""; if [ "$$(id -u)" -ne 0 ]; then \
	    command -v sudo >/dev/null || { echo "make: need root (or sudo) to install:$$missing" >&2; exit 1; }; sudo=sudo; fi; \
	  echo "make: installing Debian packages:$$missing"; \
	  $$sudo apt-get update -qq; \
	  DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends $$missing; \
	fi

$(PYTHON):
	$(BOOTSTRAP_PYTHON) -m venv $(VENV)

$(STAMPS)/hub: pyproject.toml | $(PYTHON)
	$(PIP) install -q -e '.[hub]'
	@mkdir -p $(STAMPS) && touch $@

$(STAMPS)/test: pyproject.toml | $(PYTHON)
	$(PIP) install -q -e '.[test]'
	@mkdir -p $(STAMPS) && touch $@ $(STAMPS)/hub

# The stamp alone is not trusted: if the package is gone from this Python, install again.
install-hub:
	@$(PYTHON) -c 'import hub, flask, celery, sqlalchemy' 2>/dev/null || rm -f $(STAMPS)/hub
	@$(MAKE) -s --no-print-directory $(STAMPS)/hub

install-test:
	@$(PYTHON) -c 'import hub, flask, celery, sqlalchemy, pytest, playwright' 2>/dev/null || rm -f $(STAMPS)/test
	@$(MAKE) -s --no-print-directory $(STAMPS)/test
