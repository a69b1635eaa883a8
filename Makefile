# The README's two commands: `make demo` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/mbs
TEST_BROKER_URL ?= redis://127.0.0.1:6379/15
TEST_CACHE_URL ?= redis://127.0.0.1:6379/13
DEMO_DATABASE_URL ?= sqlite:///$(CURDIR)/demo.sqlite3
PYTEST_ARGS ?=

.PHONY: demo test lint test-postgres test-sqlite venv clean bench soak audit pg-tune

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

venv: $(VENV)/.installed

# The main job on the embedded default: SQLite and Celery tasks run eagerly.
demo: venv
	rm -f demo.sqlite3 demo.sqlite3-wal demo.sqlite3-shm
	env -u CELERY_BROKER_URL DATABASE_URL=$(DEMO_DATABASE_URL) $(BIN)/python manage.py migrate --noinput -v0
	env -u CELERY_BROKER_URL DATABASE_URL=$(DEMO_DATABASE_URL) $(BIN)/python manage.py demo

# The static checks first (see lint), then the whole suite against the real PostgreSQL
# and Redis, then again on SQLite for everything that does not depend on PostgreSQL.
# pytest's exit code 5 (nothing collected) is a failure: a suite that runs no test proves nothing.
test: test-postgres test-sqlite

# The contracts of pyproject.toml, a few seconds: ruff (a bug-finding rule set, no formatting),
# import-linter (the apps import downward only; the pure money modules import no Django) and
# mypy (strict on the domain packages and the typed events).
lint: venv
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy

test-postgres: venv lint
	$(BIN)/python scripts/check_services.py $(TEST_DATABASE_URL) $(TEST_BROKER_URL)
	DATABASE_URL=$(TEST_DATABASE_URL) CELERY_BROKER_URL=$(TEST_BROKER_URL) CACHE_URL=$(TEST_CACHE_URL) $(BIN)/python -m pytest $(PYTEST_ARGS); \
	rc=$$?; if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests"; exit 1; fi; exit $$rc

test-sqlite: venv
	env -u CELERY_BROKER_URL DATABASE_URL=sqlite:///$(CURDIR)/test-run.sqlite3 $(BIN)/python -m pytest -q -m "not postgres_only" $(PYTEST_ARGS); \
	rc=$$?; if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests on SQLite"; exit 1; fi; exit $$rc

# The performance benchmark, never part of `make test`: a synthetic portfolio on its own
# PostgreSQL database (mbs_bench, dropped afterwards), real Celery workers on Redis, wrk on
# loopback. Sizes: make bench BENCH_LOANS=1000000 BENCH_TRUSTS=2000 BENCH_HOLDINGS=100000
BENCH_LOANS ?= 20000
BENCH_TRUSTS ?= 40
BENCH_HOLDINGS ?= 2000
BENCH_ARGS ?=
bench: venv
	$(BIN)/python scripts/check_services.py $(TEST_DATABASE_URL) $(TEST_BROKER_URL)
	command -v wrk >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk)
	$(BIN)/python -m benchmarks.run --loans $(BENCH_LOANS) --trusts $(BENCH_TRUSTS) --holdings $(BENCH_HOLDINGS) $(BENCH_ARGS)

# The PostgreSQL settings the benchmark recommends, applied to the server of TEST_DATABASE_URL with
# ALTER SYSTEM and pg_reload_conf (superuser; server-wide). shared_buffers is only printed: it needs
# a restart. `make pg-tune PG_TUNE_ARGS=--reset` puts the server's own files back in charge.
PG_TUNE_ARGS ?= --apply
pg-tune: venv
	$(BIN)/python -m benchmarks.pg_settings --database-url $(TEST_DATABASE_URL) $(PG_TUNE_ARGS)

# The reliability tests tried much harder, never part of `make test`: every test marked `soak`
# with MBS_SOAK=1 (many more examples, kills, restarts and cases), on its own database
# (mbs_soak). The figures are printed at the end and written to soak-figures.jsonl.
SOAK_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/mbs_soak
soak: venv
	$(BIN)/python scripts/check_services.py $(SOAK_DATABASE_URL) $(TEST_BROKER_URL)
	rm -f soak-figures.jsonl
	MBS_SOAK=1 MBS_FIGURES_FILE=$(CURDIR)/soak-figures.jsonl DATABASE_URL=$(SOAK_DATABASE_URL) CELERY_BROKER_URL=$(TEST_BROKER_URL) CACHE_URL=$(TEST_CACHE_URL) \
		$(BIN)/python -m pytest -m soak -p no:cacheprovider $(PYTEST_ARGS); \
	rc=$$?; if [ $$rc -eq 5 ]; then echo "make soak: no soak tests collected"; exit 1; fi; exit $$rc

# The security audit, never part of `make test`: bandit over the project's code (bandit.yaml says
# what is skipped and why; each false positive carries its reason on its line), then pip-audit over
# the pinned requirements against PyPI's advisories. --strict: a package that could not be checked
# fails the audit instead of passing unseen (it needs PyPI's JSON API, or OSV with -s osv, reachable).
AUDIT_CODE := config ledger servicing trusts remittance api analytics approvals scripts benchmarks manage.py
audit: venv
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-audit.txt
	$(BIN)/bandit -c bandit.yaml -r $(AUDIT_CODE) -q
	$(BIN)/pip-audit --strict --no-deps --disable-pip --progress-spinner off -r requirements.txt -r requirements-dev.txt

clean:
	rm -rf $(VENV) demo.sqlite3* test-run.sqlite3* soak-figures.jsonl staticfiles .pytest_cache .hypothesis \
		.ruff_cache .mypy_cache .import_linter_cache .grimp_cache
