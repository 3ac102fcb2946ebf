# Quick start: `make run` (set up, index the bundled document, serve the chat) and `make test`.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
export HF_HUB_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false
export ANONYMIZED_TELEMETRY := False

.PHONY: setup setup-dev setup-llm browser index run test test-fast eval eval-other bench lint clean

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# torch first and pinned: an unpinned torch pulls a CUDA build of several GB.
$(VENV)/.core: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e .
	touch $@

# llama-cpp-python compiles from source (about 6 minutes on 2 cores); pip caches the wheel.
$(VENV)/.dev: $(VENV)/.core
	$(BIN)/pip install --quiet -e '.[dev,llm]'
	touch $@

setup: $(VENV)/.core          ## the app: venv, torch (CPU), the project and the `assistant` command
setup-dev: $(VENV)/.dev       ## plus test tools and the [llm] extra
setup-llm: setup-dev

browser:                      ## Debian's Chromium for the browser tests (root only)
	@test -x /usr/bin/chromium || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	  else echo "browser tests need /usr/bin/chromium: sudo apt-get install chromium"; exit 1; fi; }

index: setup                  ## index the configured document(s); embeds only what changed
	$(BIN)/assistant index

run: index                    ## serve the chat on http://127.0.0.1:7860
	$(BIN)/assistant serve

test: setup-dev browser       ## the whole test suite (unit + integration + browser)
	$(BIN)/pytest

test-fast: setup-dev          ## unit tests only
	$(BIN)/pytest -m "not integration"

eval: index                   ## answer-quality metrics on the held-out split
	$(BIN)/assistant eval

# Each document of tests/eval/other beside its question set (name.md|.txt + name.jsonl), indexed
# into a folder of its own under .data/eval-other.
eval-other: setup             ## answer-quality metrics on other documents than the bundled one
	@for set in tests/eval/other/*.jsonl; do \
	  name=$$(basename $$set .jsonl); doc=$$(ls tests/eval/other/$$name.* | grep -v '\.jsonl$$'); \
	  $(BIN)/assistant --data-dir .data/eval-other/$$name index $$doc >/dev/null || exit 1; \
	  echo "== $$doc"; $(BIN)/assistant --data-dir .data/eval-other/$$name eval --set $$set --split all | sed -n 2,15p; \
	done

bench: index                  ## speed and memory figures
	$(BIN)/assistant bench

lint: setup-dev
	$(BIN)/ruff check assistant index ui tests
	$(BIN)/mypy assistant index ui

clean:
	rm -rf .data test-artifacts reports
