# vigil: `make demo` and `make test` set up everything they need (see README.md).
# A second run skips what is already there.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP_SYSTEM := $(VENV)/.system-packages
STAMP_DEPS := $(VENV)/.python-deps
SVD_FILES := $(VENV)/share/vigil-svd/nrf52840.svd
# two workers, one per core of the build machines; a file's tests stay on one worker (its fixtures are built once)
PYTEST_ARGS ?= -n 2 --dist loadfile

.PHONY: setup demo test firmware clean-firmware help
.DEFAULT_GOAL := help

help:
	@echo "make demo   set up, boot the virtual wrist board, run the link demo"
	@echo "make test   set up, run the whole test suite"
	@echo "make setup  only set up (apt packages, .venv, PlatformIO offline platforms)"

$(STAMP_SYSTEM): tools/install_system_packages.sh
	@bash tools/install_system_packages.sh
	@mkdir -p $(VENV) && touch $@

$(PY): | $(STAMP_SYSTEM)
	python3 -m venv $(VENV)

$(STAMP_DEPS): requirements.txt pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .
	@touch $@

# the vendors' register maps the board ports are checked against (tests/test_board_registers.py)
$(SVD_FILES): tools/fetch_svd.py | $(STAMP_DEPS)
	$(PY) tools/fetch_svd.py
	@touch $@

setup: $(STAMP_SYSTEM) $(STAMP_DEPS) $(SVD_FILES)
	@$(PY) firmware/platforms/install_offline.py

demo: setup
	$(VENV)/bin/vigil demo

test: setup
	$(PY) -m pytest $(PYTEST_ARGS)

firmware: setup
	$(VENV)/bin/pio run

clean-firmware:
	rm -rf .pio
