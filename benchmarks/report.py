"""The benchmark's figures as tables for people (the same figures are in the JSON file)."""
from __future__ import annotations


def _row(*cells) -> str:
    return "  ".join(f"{c:>14}" if i else f"{c:<34}" for i, c in enumerate(cells))


def print_report(r: dict) -> None:
    shape = r["shape"]
    print(f"\nbenchmark {r['date']} on {r['machine']}")
    print(f"portfolio: {shape['loans']:,} loans in {shape['trusts']:,} trusts, {shape['holdings']:,} holdings; "
          f"period {r['period']}; reproduce: {r['command']}\n")
    print(_row("step", "seconds", "per second", "rows/s", "peak MB"))
    b, f, c = r["boarding"], r["forming"], r["collections"]
    print(_row("1. board loans from tapes", f"{b['seconds']:.1f}", f"{b['loans_per_second']:,.0f} loans", "",
               f"{b['peak_mb']:.0f}"))
    print(_row("   form trusts from deal files", f"{f['seconds']:.1f}", f"{f['trusts_per_second']:,.1f} trusts", "",
               f"{f['peak_mb']:.0f}"))
    print(_row("2. post a month of collections", f"{c['seconds']:.1f}", f"{c['loans_per_second']:,.0f} loans",
               f"{c['rows_per_second']:,.0f}", f"{c['peak_mb']:.0f}"))
    for p in r["close"]["phases"]:
        print(_row(f"3. close {p['trusts']} trusts, {p['workers']} worker(s)", f"{p['seconds']:.1f}",
                   f"{p['loans_per_second']:,.0f} loans", f"{p['trusts_per_second']:.2f} trusts",
                   "/".join(f"{m:.0f}" for m in p["worker_peak_mb"])))
    lim, naive = r["copy_limit"], r["naive"]
    print(_row("4. COPY limit, same rows", f"{lim['seconds']:.1f}", "", f"{lim['rows_per_second']:,.0f}",
               f"{lim['peak_mb']:.0f}"))
    if "payload_bytes" in lim:
        print(f"   (the month's own rows: {lim['sampled_events']:,} of its {lim['measured_events']:,} events sampled, "
              f"payload {lim['payload_bytes']:,.0f} bytes on average as written, {lim['sent_payload_bytes']:,.0f} "
              f"as copied; {lim['postings_per_event']:.2f} postings an event)")
    if "floor" in r:
        fl = r["floor"]
        print(_row("   database floor, same rows", f"{fl['seconds']:.1f}", f"{fl['seconds'] / lim['seconds']:.2f} x COPY",
                   f"{fl['rows_per_second']:,.0f}", f"{fl['peak_mb']:.0f}"))
        print(f"   (the floor: the rows into tables guarded like the ledger's, after its {fl['prefilled_events']:,} "
              f"events: {fl['ledger_seconds']:.2f} s; then {fl['positions']:,} positions updated and "
              f"{fl['collection_lines']:,} collection lines inserted: {fl['read_models_seconds']:.2f} s; "
              f"commit {fl['commit_seconds']:.2f} s; triggers {', '.join(fl['guards']['triggers'])})")
    print(_row(f"   naive, {naive['loans']} loans scaled", f"{naive['scaled_seconds']:.1f}",
               f"{1 / naive['seconds_per_loan']:,.0f} loans", f"{naive['rows_per_second']:,.0f}",
               f"{naive['peak_mb']:.0f}"))
    q = r["ratios"]
    print(f"\ncollections + close: {q['collections_and_close_seconds']:.1f} s for {q['rows_written']:,} event and "
          f"posting rows = {q['to_copy_limit']:.2f} x the COPY limit ({lim['seconds']:.1f} s); "
          f"{q['naive_over_ours']:.1f} x faster than the naive way")
    if "close_basis" in q:
        print(f"   the close there: {q['close_seconds']:.1f} s, the {q['close_basis']}; as run (half the trusts "
              f"with 1 worker): {q['collections_and_close_as_run_seconds']:.1f} s = {q['to_copy_limit_as_run']:.2f} x")
    if "to_floor" in q:
        print(f"the database floor: {r['floor']['seconds']:.1f} s = {q['floor_over_copy_limit']:.2f} x the COPY "
              f"limit; collections + close = {q['to_floor']:.2f} x the floor (as run: {q['to_floor_as_run']:.2f} x)")
    if q.get("two_workers_over_one"):
        print(f"close throughput, 2 workers over 1: {q['two_workers_over_one']:.2f} x")
    if "api" in r:
        a = r["api"]
        print(f"\n5. investor API ({a['investors']} investors, /me/distributions/ and /me/holdings/), "
              f"server peak {a['server_peak_mb']:.0f} MB")
        print(_row("connections", "req/s", "p50 ms", "p99 ms", "non-2xx"))
        for run in a["runs"]:
            print(_row(str(run["connections"]), f"{run['requests_per_second']:,.0f}", f"{run['p50_ms']:.1f}",
                       f"{run['p99_ms']:.1f}", str(run["non_2xx"])))
    if "shards" in r:
        print_shards(r["shards"])
    if "targets" in r:
        print("\ntargets")
        for t in r["targets"]:
            print(f"  {t['target']:<46} {t['measured']:>34}   {t['verdict'].upper()}")
    if "postgres_settings" in r:
        from benchmarks.pg_settings import durability_off, format_table

        settings = r["postgres_settings"]
        print("\nPostgreSQL settings in effect (benchmarks/pg_settings.py; --tune-postgres or make pg-tune "
              "applies the reloadable ones):")
        print("\n".join(format_table(settings)))
        off = durability_off(settings)
        if off:
            print(f"  WARNING: {', '.join(off)} off: these figures are not the ledger's")


def print_shards(s: dict) -> None:
    """The two-shard simulation: each shard's import, both together, against one database."""
    print(f"\n6. two shards (trust groups) on two databases ({', '.join(s['databases'])}), one importer each, "
          f"{s['cpus']} CPUs shared with PostgreSQL")
    print(_row("shard", "seconds", "loans/s", "events", "peak MB"))
    for shard in s["shards"]:
        print(_row(f"   shard {shard['shard']}: {shard['trusts']} trusts, {shard['loans']:,} loans",
                   f"{shard['seconds']:.1f}", f"{shard['loans_per_second']:,.0f}", f"{shard['events']:,}",
                   f"{shard['peak_mb']:.0f}"))
    one = s["one_database"]
    print(_row(f"   one db: {one['trusts']} trusts, {one['loans']:,} loans", f"{one['seconds']:.1f}",
               f"{one['loans_per_second']:,.0f}", f"{one['events']:,}", f"{one['peak_mb']:.0f}"))
    ratio = f"{s['two_over_one']:.2f} x" if s["two_over_one"] else "n/a"
    print(f"both shards at once: {s['loans']:,} loans in {s['seconds']:.1f} s = {s['loans_per_second']:,.0f} "
          f"loans/s, against one process into one database just before: {ratio} "
          f"(step 2, earlier in the run: {s['main_run_loans_per_second']:,.0f} loans/s)")
