# Two commands for a newcomer: `make demo` and `make test`. Both create .venv when
# missing and install the project into it from pyproject.toml.
PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
STAMP   = $(VENV)/.govern-installed

.PHONY: demo test bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev,postgres,vault,mysql,spark,ner,langchain,llamaindex,serve,mcp]"
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/govern demo

test: $(STAMP)
	$(PY) -m pytest -q

bench: $(STAMP)
	$(PY) benchmarks/bench_sql.py

clean:
	rm -rf $(VENV) data .pytest_cache
