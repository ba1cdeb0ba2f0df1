# bmnn-guard: two commands from nothing.
#   make scan   set up, then run the inspection checklist on this machine (built-in default policy)
#   make test   set up, then run the whole suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
LOCALE := scanner/locale
MO     := $(LOCALE)/vi/LC_MESSAGES/bmnn.mo $(LOCALE)/en/LC_MESSAGES/bmnn.mo

# sudo make install / uninstall: where things go (override for a staged or test install)
PREFIX   ?= /opt/bmnn-guard
BINDIR   ?= /usr/local/bin
UNITDIR  ?= /etc/systemd/system
CONFDIR  ?= /etc/bmnn
STATEDIR ?= /var/lib/bmnn
LOGDIR   ?= /var/log/bmnn
RUNDIR   ?= /run/bmnn
INSTALL_ENV = BMNN_STATE_DIR=$(STATEDIR) BMNN_LOG_DIR=$(LOGDIR) BMNN_RUNTIME_DIR=$(RUNDIR)

.PHONY: setup sysdeps test scan bench clean install uninstall deb deb-lint i18n-extract

setup: $(VENV)/.installed $(MO)

$(VENV)/.installed: pyproject.toml setup.py scanner/content/_fastplain.c scanner/content/_fastimage.c
	@$(PYTHON) -m venv $(VENV) 2>/dev/null || { sh tools/system-deps.sh venv && $(PYTHON) -m venv $(VENV); }
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test]'
	@touch $@

# The message catalog (docs/i18n.md): .po is the source, .mo what the program reads. The build
# compiles it too (setup.py); this rule keeps an editable install current after a .po edit.
$(LOCALE)/%/LC_MESSAGES/bmnn.mo: $(LOCALE)/%/LC_MESSAGES/bmnn.po $(VENV)/.installed
	@$(BIN)/pybabel compile --use-fuzzy -D bmnn -d $(LOCALE) -l $* 2>&1 | grep -v '^compiling' || true
	@test -f $@

# bmnn.pot from the code (pybabel extract: the literal keys given to t()/_t()); the catalog's
# own list of msgids, computed keys included, is kept by tools/i18n-migrate.py
i18n-extract: setup
	$(BIN)/pybabel extract --no-location --omit-header -k t -k _t -k tr -o build/extracted.pot \
	  cli.py agent scanner policies

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
	rm -rf $(VENV) build dist *.egg-info .pytest_cache $(MO)

# dist/bmnn-guard_<version>_<arch>.deb: the program and every Python dependency in a venv for
# /usr/lib/bmnn-guard, made with Debian's python3; wheels come from the pip index this machine
# is set up with, nothing is fetched on the target (packaging/deb/build.py, docs/packaging.md).
DEB_DIR ?= dist
deb: setup
	@sh tools/system-deps.sh deb
	/usr/bin/python3 packaging/deb/build.py --pip $(BIN)/pip --out $(DEB_DIR)

# lintian over the built package: no errors; every warning kept is explained in
# packaging/deb/lintian-overrides
deb-lint: deb
	@sh tools/system-deps.sh deb
	lintian --fail-on error,warning $(DEB_DIR)/bmnn-guard_$$(/usr/bin/python3 packaging/deb/build.py --print-version)_$$(dpkg --print-architecture).deb

# The project in its own venv under PREFIX, bmnn and bmnn-agent on the PATH, the unit, the bmnn
# group, the directories and the host key (bmnn init). Local configuration and keys are never
# overwritten: local changes to the unit belong in a drop-in (systemctl edit bmnn-agent).
install:
	@[ "$$(id -u)" = 0 ] || { echo "make install: run it as root (sudo make install)" >&2; exit 1; }
	@[ -x $(PREFIX)/bin/python ] || $(PYTHON) -m venv $(PREFIX) 2>/dev/null || { sh tools/system-deps.sh venv && $(PYTHON) -m venv $(PREFIX); }
	$(PREFIX)/bin/pip install --quiet --disable-pip-version-check --upgrade .
	install -d -m 0755 $(BINDIR) $(UNITDIR)
	ln -sf $(PREFIX)/bin/bmnn $(BINDIR)/bmnn
	ln -sf $(PREFIX)/bin/bmnn-agent $(BINDIR)/bmnn-agent
	install -m 0644 systemd/bmnn-agent.service $(UNITDIR)/bmnn-agent.service
	$(INSTALL_ENV) $(PREFIX)/bin/bmnn --lang en --config-dir $(CONFDIR) init
	install -d -m 0755 $(CONFDIR)/local.d
	@if [ "$(UNITDIR)" = /etc/systemd/system ] && [ -d /run/systemd/system ]; then systemctl daemon-reload; fi
	@echo "installed. Enable the daemon: systemctl enable --now bmnn-agent; add the security officer: usermod -aG bmnn USER"

# Removes the program, the commands and the unit; keeps the journal, the logs and the configuration.
uninstall:
	@[ "$$(id -u)" = 0 ] || { echo "make uninstall: run it as root (sudo make uninstall)" >&2; exit 1; }
	@if [ "$(UNITDIR)" = /etc/systemd/system ] && [ -d /run/systemd/system ]; then systemctl disable --now bmnn-agent 2>/dev/null || true; fi
	rm -f $(UNITDIR)/bmnn-agent.service $(BINDIR)/bmnn $(BINDIR)/bmnn-agent
	rm -rf $(PREFIX)
	@if [ "$(UNITDIR)" = /etc/systemd/system ] && [ -d /run/systemd/system ]; then systemctl daemon-reload; fi
	@echo "removed. Kept: $(CONFDIR) (configuration, keys), $(STATEDIR) (journal), $(LOGDIR) (logs)"
