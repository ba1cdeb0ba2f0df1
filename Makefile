# bmnn-guard: two commands from nothing.
#   make scan   set up, then run the inspection checklist on this machine (built-in default policy)
#   make test   set up, then run the whole suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: setup sysdeps test scan bench clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -m venv $(VENV) 2>/dev/null || { sh tools/system-deps.sh venv && $(PYTHON) -m venv $(VENV); }
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test]'
	@touch $@

sysdeps:
	@sh tools/system-deps.sh test

test: setup sysdeps
	$(BIN)/python -m pytest $(PYTEST_ARGS)

scan: setup
	@$(BIN)/bmnn scan $(SCAN_ARGS); rc=$$?; case $$rc in \
	  0) ;; 2) echo "(bmnn scan: exit 2 = non-compliant)";; 3) echo "(bmnn scan: exit 3 = incomplete)";; \
	  *) echo "(bmnn scan: exit $$rc = error)"; exit $$rc;; esac

bench: setup
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
