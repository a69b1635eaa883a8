"""The benchmark's steps, each timed on the bench database through the project's own services.

Every step streams its files in chunks (`--file-rows` rows each), so no
process ever holds the portfolio at once; the peak memory of each process is
reported with the step.
"""
from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from benchmarks import BENCHMARK
from benchmarks.portfolio import (
    BenchCalendar, Shape, deal_file, payment_file_chunks, synthetic_loan, tape_chunks, trust_code,
)
from benchmarks.run import Timer, log_rows
from benchmarks.targets import assess


def run_all(args) -> dict:
    from django.core.management import call_command

    from ledger import business_time

    shape = Shape(args.loans, args.trusts, args.holdings)
    calendar = BenchCalendar.before(business_time.today())
    call_command("migrate", verbosity=0)
    out = {"period": str(calendar.period)}
    out["boarding"] = board(shape, calendar, args.file_rows)
    out["forming"] = form(shape, calendar)
    # The log's position before the month: the COPY limit copies the shape of what comes after it.
    month_starts_after = log_rows()[0]
    out["collections"] = collect(shape, calendar, args.file_rows)
    # Before the close: the naive sample pays a trust's holders for a period not yet closed (rolled back).
    out["naive"] = naive(shape, calendar)
    out["close"] = close(shape, calendar, args)
    written = out["collections"]["rows"] + out["close"]["rows"]
    from benchmarks.copy_limit import written_rows

    sample = written_rows(after_position=month_starts_after)
    out["copy_limit"] = limit(out["collections"], out["close"], sample=sample)
    out["floor"] = floor(out["collections"], out["close"], sample=sample, after_position=month_starts_after)
    out["ratios"] = ratios(out, written)
    if not args.skip_api:
        out["api"] = api(args)
    if not args.skip_shards:
        from benchmarks.shards import shard_simulation

        out["shards"] = shard_simulation(args, one_database=out["collections"])
    out["targets"] = assess(out)
    return out


def board(shape: Shape, calendar: BenchCalendar, file_rows: int) -> dict:
    from servicing.services.boarding import tape_board

    with Timer() as t:
        for raw in tape_chunks(range(shape.loans), calendar, file_rows):
            tape_board(raw=raw, boarded_on=calendar.boarded_on, acting_user=BENCHMARK)
    return {"loans": shape.loans, "seconds": t.seconds, "loans_per_second": shape.loans / t.seconds,
            "peak_mb": t.peak_mb}


def form(shape: Shape, calendar: BenchCalendar) -> dict:
    from trusts.services.forming import deal_file_form

    with Timer() as t:
        for trust in range(shape.trusts):
            deal_file_form(raw=deal_file(shape, trust, calendar), acting_user=BENCHMARK)
    return {"trusts": shape.trusts, "seconds": t.seconds, "trusts_per_second": shape.trusts / t.seconds,
            "peak_mb": t.peak_mb}


def collect(shape: Shape, calendar: BenchCalendar, file_rows: int) -> dict:
    from servicing.services.payment_files import payment_file_import

    before = log_rows()
    payments, seconds = 0, 0.0
    # Only the imports are timed: the bank's files are made by the benchmark, not by the system.
    for raw in payment_file_chunks(range(shape.loans), calendar, file_rows):
        with Timer() as t:
            payments += len(payment_file_import(raw=raw, acting_user=BENCHMARK).posted)
        seconds += t.seconds
    events, postings = (after - was for after, was in zip(log_rows(), before))
    return {"payments": payments, "events": events, "postings": postings, "rows": events + postings,
            "seconds": seconds, "loans_per_second": shape.loans / seconds,
            "rows_per_second": (events + postings) / seconds, "peak_mb": t.peak_mb}


def close(shape: Shape, calendar: BenchCalendar, args) -> dict:
    """Every trust's close through real workers, in groups as the month-end sends them: the first half with one
    worker, the second with two."""
    from remittance.services.closing import month_end_prepare

    month_end_prepare()  # as the month-end task does before it fans out
    codes = [trust_code(i) for i in range(shape.trusts)]
    half = max(1, len(codes) // 2)
    before = log_rows()
    phases = []
    for workers, batch in ((1, codes[:half]), (2, codes[half:])):
        if batch:
            phases.append(close_phase(workers, batch, calendar, args))
    events, postings = (after - was for after, was in zip(log_rows(), before))
    seconds = sum(p["seconds"] for p in phases)
    return {"phases": phases, "events": events, "postings": postings, "rows": events + postings,
            "seconds": seconds, "trusts": len(codes)}


def close_phase(workers: int, codes: list[str], calendar: BenchCalendar, args) -> dict:
    """The trusts closed in groups (remittance.services.closing.close_groups), at least one group per worker."""
    from config.celery import app
    from remittance.models import PeriodResult
    from remittance.services.closing import close_groups
    from remittance.tasks import close_trust_group_task

    from benchmarks.workers import celery_workers, peak_memory_mb

    app.control.purge()
    env = {"DATABASE_URL": args.database_url, "CELERY_BROKER_URL": args.broker_url,
           "DEBUG": os.environ.get("DEBUG", "false"), "SECRET_KEY": os.environ.get("SECRET_KEY", "")}
    logs = Path(tempfile.mkdtemp(prefix="bench-workers-"))
    groups = close_groups(codes, at_least=workers)
    with celery_workers(workers, env=env, log_dir=logs) as processes:
        _wait_for_workers(app, workers)
        period = str(calendar.period)
        with Timer() as t:
            for group in groups:
                close_trust_group_task.delay(group, period)
            closed = _wait_for_closes(PeriodResult, codes, period, timeout=max(600, 5 * len(codes)))
        memory = [peak_memory_mb(p.pid) for p in processes]
    loans = sum(len(Shape(args.loans, args.trusts, args.holdings).trust_loans(int(c[4:]) - 1)) for c in codes)
    return {"workers": workers, "trusts": len(codes), "groups": len(groups), "closed": closed, "loans": loans,
            "seconds": t.seconds, "trusts_per_second": len(codes) / t.seconds, "loans_per_second": loans / t.seconds,
            "worker_peak_mb": memory, "worker_logs": str(logs)}


def _wait_for_workers(app, count: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(app.control.ping(timeout=1.0) or []) >= count:
            return
    raise RuntimeError(f"{count} Celery worker(s) did not answer within {timeout:.0f} s")


def _wait_for_closes(model, codes: list[str], period: str, *, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while True:
        closed = model.objects.filter(trust__code__in=codes, period=period).count()
        if closed == len(codes):
            return closed
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {closed} of {len(codes)} trusts closed within {timeout:.0f} s")
        time.sleep(0.2)


def limit(collections: dict, close: dict, *, sample) -> dict:
    """PostgreSQL COPY of as many event and posting rows as collections and close wrote, shaped like them.

    The payloads and postings are a sample of the month's own rows (the
    events after the month's first position), so the limit sends as many bytes an
    event as the ledger did (benchmarks.copy_limit.written_rows).
    """
    from benchmarks.copy_limit import copy_limit

    events = collections["events"] + close["events"]
    postings = collections["postings"] + close["postings"]
    with Timer() as t:
        figures = copy_limit(events=events, postings=postings, sample=sample)
    return {**figures, "peak_mb": t.peak_mb}


def floor(collections: dict, close: dict, *, sample, after_position: int) -> dict:
    """The same rows as the limit, into tables guarded like the ledger's, with the read models' writes.

    benchmarks.floor: what PostgreSQL alone needs for the ledger's guarantees (indexes, unique keys,
    foreign keys, the immutability and double-entry triggers, the positions and collection lines in the
    append's transaction), the log before the month in the tables.
    """
    from benchmarks.floor import database_floor

    with Timer() as t:
        figures = database_floor(events=collections["events"] + close["events"],
                                 postings=collections["postings"] + close["postings"], sample=sample,
                                 after_position=after_position)
    return {**figures, "peak_mb": t.peak_mb}


def naive(shape: Shape, calendar: BenchCalendar) -> dict:
    """One trust's month the naive way (a service call per payment and per holder, rolled back), scaled."""
    from benchmarks.naive import naive_month
    from benchmarks.portfolio import payment_amount_cents
    from servicing.models import LoanPosition

    sample = [synthetic_loan(i) for i in shape.trust_loans(0)]
    open_loans = set(LoanPosition.objects.filter(loan_id__in=[s.number for s in sample], status="active")
                     .values_list("loan_id", flat=True))
    amounts = {s.number: payment_amount_cents(s, "on_time") for s in sample if s.number in open_loans}
    with Timer() as t:
        figures = naive_month(loans=sorted(amounts), received_on=calendar.first_due, payment_amounts=amounts,
                              trust_code=trust_code(0))
    # Payments scale with the loans, holder payments with the holdings.
    scaled = figures["seconds_per_loan"] * shape.loans + figures["seconds_per_holder"] * shape.holdings
    return {**figures, "scaled_to_loans": shape.loans, "scaled_seconds": scaled, "peak_mb": t.peak_mb}


def ratios(out: dict, written: int) -> dict:
    """Ours against the COPY limit and the naive way, with the close as the system runs it: two workers.

    The close's phases ran different trusts with one worker and with two; the
    ratios take the close of every trust at the two-worker phase's rate
    (its trusts per second applied to all the trusts; the pools are nearly
    equal, so per trust is per loan), and keep the close as run beside it.
    """
    close = out["close"]
    phases = {p["workers"]: p for p in close["phases"]}
    limit_seconds = out["copy_limit"]["seconds"]
    widest = phases[max(phases)]  # the phase with the most workers
    close_seconds = close["trusts"] / widest["trusts_per_second"]
    ours = out["collections"]["seconds"] + close_seconds
    as_run = out["collections"]["seconds"] + close["seconds"]
    floor = {}
    if "floor" in out:  # the database floor: the same rows with the ledger's guarantees and read models
        floor = {"floor_over_copy_limit": out["floor"]["seconds"] / limit_seconds,
                 "to_floor": ours / out["floor"]["seconds"], "to_floor_as_run": as_run / out["floor"]["seconds"]}
    return {
        **floor,
        "collections_and_close_seconds": ours,
        "close_seconds": close_seconds,
        "close_basis": (f"{widest['workers']}-worker rate ({widest['trusts_per_second']:.2f} trusts/s, "
                        f"measured on {widest['trusts']} trusts) applied to all {close['trusts']} trusts"),
        "rows_written": written,
        "to_copy_limit": ours / limit_seconds,
        "naive_over_ours": out["naive"]["scaled_seconds"] / ours,
        "collections_and_close_as_run_seconds": as_run,
        "to_copy_limit_as_run": as_run / limit_seconds,
        "two_workers_over_one": (phases[2]["trusts_per_second"] / phases[1]["trusts_per_second"]
                                 if 1 in phases and 2 in phases else None),
    }


def api(args) -> dict:
    from benchmarks.api_load import free_port, investor_tokens, refuse_non_2xx, run_api_load, serve

    tokens = investor_tokens(args.api_tokens)
    # A port free now, not a fixed one another run (or another program) may hold. The cache is the
    # production shape's shared one (Redis): the broker's server, as the workers of the close use it.
    with serve(args.database_url, free_port(), cache_url=args.broker_url) as server:
        runs = run_api_load(base_url=server.base_url, tokens=tokens, seconds=args.api_seconds)
        memory = server.peak_memory_mb()
    refuse_non_2xx(runs)
    return {"investors": len(tokens), "runs": runs, "server_peak_mb": memory}
