# mmlab — the two commands a newcomer needs are `make demo` and `make test`.
# Everything is installed here: the venv, the pinned packages and Debian's chromium.

PY      ?= python3
VENV    ?= .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.mmlab-installed
PYTEST_ARGS ?=

export MPLBACKEND := Agg
export PYTHONHASHSEED := 0

.PHONY: install demo test serve bench chromium lint clean help

help:
	@echo "make demo   - install, then run the report notebooks on the shipped data into reports/*.html"
	@echo "make test   - install (with test extras and chromium), then ruff, mypy and the whole test suite"
	@echo "make serve  - serve the Panel dashboards on 127.0.0.1"
	@echo "make bench  - benchmarks, side by side with the reference tools"

$(BIN)/python:
	$(PY) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml constraints.txt
	$(BIN)/python -m pip install --quiet --upgrade pip wheel setuptools
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test]'
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (mmlab)" >/dev/null
	touch $(STAMP)

install: $(STAMP)

chromium:
	@if command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]; then \
	  echo "chromium: $$(command -v chromium || echo /usr/bin/chromium)"; \
	else \
	  echo "installing Debian's chromium"; \
	  SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; \
	fi

demo: install
	$(BIN)/mmlab demo

test: install chromium
	$(BIN)/python -m ruff check mmlab tests
	$(BIN)/python -m mypy mmlab
	$(BIN)/python -m pytest $(PYTEST_ARGS)

serve: install
	$(BIN)/mmlab serve

BENCH_ARGS ?=
bench: install
	$(BIN)/python bench/run_all.py $(BENCH_ARGS)

lint: install
	$(BIN)/python -m ruff check mmlab tests
	$(BIN)/python -m mypy mmlab

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache reports/*.html
