# Two commands set up a fresh machine (Python 3.11): `make demo` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup browser demo test lint

setup: $(STAMP)

# visdom is an sdist whose build needs pkg_resources (setuptools < 70), while torch requires setuptools >= 77: build
# visdom first (its dependencies held to our pins), then let the pinned requirements upgrade setuptools (the other
# order makes pip print a dependency-conflict ERROR).
$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q "setuptools<70" wheel
	$(BIN)/pip install -q --no-build-isolation -c requirements.txt visdom==0.2.4
	$(BIN)/pip install -q -r requirements.txt -r requirements-dev.txt
	touch $(STAMP)

# Only the browser tests of the HTML pages need a browser: they drive Debian's chromium through playwright.
browser:
	command -v chromium >/dev/null || { SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium; }

demo: setup
	bash scripts/demo.sh

# Two test processes, one per core, each running whole test modules (see tests/conftest.py).
test: setup browser
	$(BIN)/python -m pytest -q -n 2 --dist loadfile

lint: setup
	$(BIN)/ruff check .
