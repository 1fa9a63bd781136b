# Two commands set up a fresh machine (Python 3.11): `make demo` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test lint clean-demo

setup: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements.txt -r requirements-dev.txt
	# visdom is an sdist whose build needs pkg_resources (setuptools < 70); torch wants a newer setuptools after.
	$(BIN)/pip install -q "setuptools<70" wheel
	$(BIN)/pip install -q --no-build-isolation visdom==0.2.4
	$(BIN)/pip install -q "setuptools>=77"
	# the browser tests of the HTML pages drive Debian's chromium through playwright
	command -v chromium >/dev/null || { SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium; }
	touch $(STAMP)

demo: setup
	bash scripts/demo.sh

test: setup
	$(BIN)/python -m pytest -q

lint: setup
	$(BIN)/ruff check .
