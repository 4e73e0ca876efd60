# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
# The development install: requirements-dev.txt includes requirements.txt,
# so a change to either file reinstalls.
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)
PORT ?= 8000
# `make run` and `make setup` use the development settings; `make test`
# keeps pytest's own (pyproject.toml).
LOCAL := DJANGO_SETTINGS_MODULE=config.settings.local SITE_URL=$${SITE_URL:-http://127.0.0.1:$(PORT)}

.PHONY: install run setup test lint clean collectstatic

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

# The development install alone (CI runs it before its passes), with the
# .env that points `python manage.py ...` in this checkout at the development
# settings.
install: $(STAMP) .env

# .env makes `python manage.py ...` in this checkout use the development
# settings (config/environment.py); production has no such file.
.env:
	echo "DJANGO_SETTINGS_MODULE=config.settings.local" > .env

setup: install
	$(LOCAL) $(BIN)/python manage.py migrate --noinput
	$(LOCAL) $(BIN)/python manage.py seed_demo

# The fleet simulator (demo telemetry) sends through the OCPP gateway as real
# chargers; `make run SIMULATE=direct` sends straight to the telemetry
# service instead, `make run SIMULATE=0` leaves it out. DEMO_SPEED (default
# 5, config/settings/local.py) says how many times faster than real life the
# demo runs: every kind of system report within five minutes.
SIMULATE ?= ocpp
SIMULATOR := $(if $(filter 0 no false off,$(SIMULATE)),,$(if $(filter direct 1 yes true on,$(SIMULATE)),simulator,simulator-ocpp))
# The demo drivers (simulate_drivers) go with the simulator; `welcome`
# prints the addresses and logins once the web server answers.
DRIVERS := $(if $(SIMULATOR),drivers,)
PROCESSES := web worker beat gateway $(SIMULATOR) $(DRIVERS) welcome

run: setup
	@echo "Starting the back-office on http://127.0.0.1:$(PORT)/admin/ and the OCPP gateway on ws://127.0.0.1:$${OCPP_PORT:-9000}/ocpp/<id> (Ctrl-C stops everything)"
	$(LOCAL) PATH="$(CURDIR)/$(BIN):$$PATH" PORT=$(PORT) WEB_PORT=$(PORT) PYTHONUNBUFFERED=1 $(BIN)/honcho start -f Procfile $(PROCESSES)

test: $(STAMP) .env
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .

# The build step of a release: the static files, with hashed and compressed
# names, into STATIC_ROOT (staticfiles/), for WhiteNoise to serve. Needs no
# secret and no service (config/settings/build.py).
collectstatic:
	DJANGO_SETTINGS_MODULE=config.settings.build $(BIN)/python manage.py collectstatic --noinput --clear -v 0

clean:
	rm -rf $(VENV) var db.sqlite3 staticfiles .env
