# The two commands of the README. Both build a private virtual environment in .venv.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# torch 2.13.0 (CPU build) pinned so pip never pulls a multi-GB CUDA build by accident;
# override with `make TORCH_SPEC=torch ...` to let pip choose (e.g. for a CUDA machine).
TORCH_SPEC ?= torch==2.13.0

.PHONY: demo test install install-test clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/python -m pip install --quiet "$(TORCH_SPEC)"
	$(BIN)/python -m pip install --quiet -e .

install-test: $(BIN)/python
	$(BIN)/python -m pip install --quiet "$(TORCH_SPEC)"
	$(BIN)/python -m pip install --quiet -e ".[test]"

demo: install
	$(BIN)/bayesgrn demo

test: install-test
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q -n auto --maxprocesses 4

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
