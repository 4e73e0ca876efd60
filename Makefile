# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum requirements.txt | cut -d' ' -f1)
PORT ?= 8000

.PHONY: run setup test lint migrate demo clean

$(STAMP): requirements.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

setup: $(STAMP)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo

# `make run SIMULATE=0` leaves out the fleet simulator (demo telemetry);
# `make run SIMULATE=ocpp` sends it through the OCPP gateway as real chargers.
SIMULATE ?= 1
SIMULATOR := $(if $(filter 0 no false off,$(SIMULATE)),,$(if $(filter ocpp,$(SIMULATE)),simulator-ocpp,simulator))
PROCESSES := web worker beat gateway $(SIMULATOR)

run: setup
	@echo "Starting the back-office on http://127.0.0.1:$(PORT)/admin/ and the OCPP gateway on ws://127.0.0.1:$${OCPP_PORT:-9000}/ocpp/<id> (Ctrl-C stops everything)"
	PATH="$(CURDIR)/$(BIN):$$PATH" PORT=$(PORT) $(BIN)/honcho start -f Procfile $(PROCESSES)

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) var db.sqlite3
