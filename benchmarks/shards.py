"""Scale-out past one database, simulated: the portfolio in two trust groups, each its own log and process.

`make bench` runs it after its main steps (`--skip-shards` leaves it out).
The run's portfolio is split by trust: the first half of the trusts (with
their loans) is trust group 1, the rest group 2, as docs/SCALE_OUT.md shards
the log. Each group gets a database of its own (the bench database's name
with `_s1` and `_s2`), and one process per shard, started afresh, which:

1. creates its database and migrates it, boards its group's loans from loan
   tapes and forms its group's trusts from deal files (not timed);
2. says it is ready and waits for the word to go, so both start together;
3. imports its group's payment files through `payment_file_import`, the
   service the main run's collections step uses, and reports when it
   started and ended (wall clock) and its peak memory;
4. with `verify`, runs `verify_ledger` on its own log: each shard's chains,
   positions and read models check alone.

The ingest of the two shards (all the loans over the span from the first
start to the last end) is set against one process importing both halves
into one database (`_one`), prepared the same way alongside the shards and
run just before them, alone, so both figures meet the same machine (the main
run's collections step, minutes earlier, is kept beside them: on a shared
machine the load changes in minutes). The files are the same, in the same
chunks. The report gives the ratio and the CPU count: two shards double the
ingest only when each importer and its PostgreSQL have cores of their own,
which a 2-core machine running both databases does not give them.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
GROUPS = 2
READY = "SHARD-READY"
RESULT = "SHARD-RESULT "


def shard_url(base_url: str, shard: int) -> str:
    """The shard's database: the bench database's name with _s1, _s2, or _one for shard 0 (all the trusts).

    Every name still starts with mbs_bench, so run.recreate_database accepts it.
    """
    parsed = urlparse(base_url)
    return parsed._replace(path=f"{parsed.path}_{'one' if shard == 0 else f's{shard}'}").geturl()


def trust_group(trusts: int, shard: int, groups: int = GROUPS) -> range:
    """The trust indexes (0-based) of a shard (1-based): consecutive, nearly equal groups; shard 0 is all."""
    if shard == 0:
        return range(trusts)
    if not 1 <= shard <= groups or trusts < groups:
        raise ValueError(f"shard {shard} of {groups} needs 1 <= shard <= groups and at least {groups} trusts")
    return range((shard - 1) * trusts // groups, shard * trusts // groups)


def group_loans(shape, trusts: range) -> range:
    """The loan indexes of a trust group: its trusts' pools are consecutive, so their loans are too."""
    return range(shape.trust_loans(trusts.start).start, shape.trust_loans(trusts.stop - 1).stop)


def shard_simulation(args, *, one_database: dict, verify: bool = False) -> dict:
    """The one-database import, then both shards' at once, each its own process; figures side by side.

    `one_database` is the main run's collections figures (loans_per_second),
    reported beside the simulation's own one-database figure. The databases
    are dropped at the end unless `args.keep_database`.
    """
    from benchmarks.run import drop_database

    logs = Path(os.environ.get("BENCH_SHARD_LOGS") or _temp_dir())
    numbers = [0, *range(1, GROUPS + 1)]  # 0: every trust in one database
    urls = {shard: shard_url(args.database_url, shard) for shard in numbers}
    processes: dict[int, subprocess.Popen] = {}
    try:
        # Prepared side by side (not timed), then each timed import starts on a quiet pair of databases.
        for shard in numbers:
            processes[shard] = _start(shard, urls[shard], args, logs, verify=verify)
        for shard in numbers:
            _expect(processes[shard], READY, shard, logs)
        one = _go([processes[0]], [0], logs)[0]
        shards = _go([processes[shard] for shard in numbers[1:]], numbers[1:], logs)
        for shard, process in processes.items():
            if process.wait(timeout=120) != 0:
                raise RuntimeError(f"shard {shard} exited with {process.returncode}: see {logs}")
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.kill()
                process.wait()
        if not args.keep_database:
            for url in urls.values():
                drop_database(url)
    seconds = max(s["ended"] for s in shards) - min(s["started"] for s in shards)
    loans = sum(s["loans"] for s in shards)
    rate = loans / seconds if seconds > 0 else 0.0
    return {"databases": [urlparse(urls[n]).path.lstrip("/") for n in numbers[1:]], "cpus": os.cpu_count(),
            "shards": shards, "loans": loans, "seconds": seconds, "loans_per_second": rate,
            "one_database": {**one, "database": urlparse(urls[0]).path.lstrip("/")},
            "two_over_one": rate / one["loans_per_second"] if one["loans_per_second"] else None,
            "main_run_loans_per_second": one_database["loans_per_second"], "logs": str(logs)}


def _go(processes: list[subprocess.Popen], numbers: list[int], logs: Path) -> list[dict]:
    """The word to go, to every process given (as close together as a few writes); their figures."""
    for process in processes:
        process.stdin.write("go\n")
        process.stdin.flush()
    return [json.loads(_expect(process, RESULT, shard, logs)[len(RESULT):])
            for process, shard in zip(processes, numbers)]


def _temp_dir() -> str:
    import tempfile

    return tempfile.mkdtemp(prefix="bench-shards-")


def _start(shard: int, url: str, args, logs: Path, *, verify: bool) -> subprocess.Popen:
    command = [sys.executable, "-m", "benchmarks.shards", "--shard", str(shard), "--database-url", url,
               "--broker-url", args.broker_url, "--loans", str(args.loans), "--trusts", str(args.trusts),
               "--holdings", str(args.holdings), "--file-rows", str(args.file_rows)]
    if verify:
        command.append("--verify")
    log = open(logs / f"shard-{shard}.log", "w")
    # This Python running this module, from a fixed argument list, no shell.
    return subprocess.Popen(command, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,  # nosec B603
                            stderr=log, text=True, env={**os.environ, "DATABASE_URL": url})


def _expect(process: subprocess.Popen, marker: str, shard: int, logs: Path) -> str:
    """The shard's next line starting with `marker` (other output is skipped); its end is an error."""
    for line in process.stdout:
        if line.startswith(marker):
            return line.rstrip("\n")
    raise RuntimeError(f"shard {shard} ended before {marker.strip()!r} (exit {process.wait()}): see {logs}")


# --- One shard's process --------------------------------------------------------------------------------


def run_shard(args) -> dict:
    """Prepare this shard's database, wait for the word, import its payment files; its figures."""
    from django.core.management import call_command

    from benchmarks import BENCHMARK
    from benchmarks.portfolio import BenchCalendar, Shape, deal_file, payment_file_chunks, tape_chunks
    from benchmarks.run import log_rows, self_peak_mb
    from ledger import business_time
    from servicing.services.boarding import tape_board
    from servicing.services.payment_files import payment_file_import
    from trusts.services.forming import deal_file_form

    shape = Shape(args.loans, args.trusts, args.holdings)
    calendar = BenchCalendar.before(business_time.today())
    trusts = trust_group(shape.trusts, args.shard)
    loans = group_loans(shape, trusts)
    call_command("migrate", verbosity=0)
    for raw in tape_chunks(loans, calendar, args.file_rows):
        tape_board(raw=raw, boarded_on=calendar.boarded_on, acting_user=BENCHMARK)
    for trust in trusts:
        deal_file_form(raw=deal_file(shape, trust, calendar), acting_user=BENCHMARK)
    print(READY, flush=True)
    if sys.stdin.readline().strip() != "go":
        raise SystemExit("the simulation did not say go")
    before = log_rows()
    payments = 0
    started = time.time()
    for raw in payment_file_chunks(loans, calendar, args.file_rows):
        payments += len(payment_file_import(raw=raw, acting_user=BENCHMARK).posted)
    ended = time.time()
    events, postings = (after - was for after, was in zip(log_rows(), before))
    verified = None
    if args.verify:
        call_command("verify_ledger", verbosity=0)  # raises on any break: each shard's log checks alone
        verified = True
    seconds = ended - started
    return {"shard": args.shard, "trusts": len(trusts), "loans": len(loans), "payments": payments,
            "events": events, "postings": postings, "started": started, "ended": ended, "seconds": seconds,
            "loans_per_second": len(loans) / seconds if seconds > 0 else 0.0, "peak_mb": self_peak_mb(),
            "verified": verified}


def main(argv=None) -> int:
    from benchmarks.run import recreate_database, setup_django

    parser = argparse.ArgumentParser(description="one shard of the simulation (started by shard_simulation)")
    parser.add_argument("--shard", type=int, required=True)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--broker-url", required=True)
    parser.add_argument("--loans", type=int, required=True)
    parser.add_argument("--trusts", type=int, required=True)
    parser.add_argument("--holdings", type=int, required=True)
    parser.add_argument("--file-rows", type=int, default=50_000)
    parser.add_argument("--verify", action="store_true")
    args = parser.parse_args(argv)
    recreate_database(args.database_url)
    setup_django(args)
    print(RESULT + json.dumps(run_shard(args)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
