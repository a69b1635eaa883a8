"""The issue's targets, each judged met or missed from one run's figures (printed and in the JSON).

- collections + close at most 3 x the PostgreSQL COPY of their rows;
- at least 20 x faster than the naive way (one service call per payment and per holder);
- the investor API at 10 connections: at least 300 requests/s, p99 under 50 ms;
- peak memory under 1.5 GB in every process: the main one, each Celery worker, the API server (all
  its gunicorn processes) and each shard's importer.

Pure: a dict of figures in, a list of verdicts out, so the rules are tested without a run. A figure
the run did not measure (the API skipped, say) is "not measured", never met.

Beside them, one line for information, not a target: collections + close over the database floor
(benchmarks.floor), the same rows with the ledger's guarantees and read models and no Python.
"""
from __future__ import annotations

COPY_LIMIT_TIMES = 3.0
NAIVE_TIMES = 20.0
API_CONNECTIONS = 10
API_REQUESTS_PER_SECOND = 300.0
API_P99_MS = 50.0
PEAK_MB = 1.5 * 1024


def _verdict(target: str, measured: str, met: bool | None) -> dict:
    return {"target": target, "measured": measured, "met": met,
            "verdict": "not measured" if met is None else "met" if met else "missed"}


def process_peaks(results: dict) -> dict[str, float]:
    """Each process's peak resident memory in MB, by a name for people (main, worker 2.1, api server, ...)."""
    peaks: dict[str, float] = {}
    main = [step["peak_mb"] for step in results.values() if isinstance(step, dict) and "peak_mb" in step]
    if main:
        peaks["main"] = max(main)
    for phase in results.get("close", {}).get("phases", []):
        for number, mb in enumerate(phase.get("worker_peak_mb", []), 1):
            peaks[f"worker {phase['workers']}.{number}"] = mb
    if "api" in results and "server_peak_mb" in results["api"]:
        peaks["api server"] = results["api"]["server_peak_mb"]
    simulation = results.get("shards", {})
    for shard in [*simulation.get("shards", []), *([simulation["one_database"]] if "one_database" in simulation
                                                  else [])]:
        peaks[f"shard {shard['shard'] or 'one'}"] = shard["peak_mb"]
    return peaks


def assess(results: dict) -> list[dict]:
    """Every target with what was measured and whether it is met."""
    q = results.get("ratios", {})
    verdicts = []
    if "to_copy_limit" in q:
        verdicts.append(_verdict(f"collections + close <= {COPY_LIMIT_TIMES:g} x COPY",
                                 f"{q['to_copy_limit']:.2f} x", q["to_copy_limit"] <= COPY_LIMIT_TIMES))
    else:
        verdicts.append(_verdict(f"collections + close <= {COPY_LIMIT_TIMES:g} x COPY", "", None))
    if "naive_over_ours" in q:
        verdicts.append(_verdict(f"naive >= {NAIVE_TIMES:g} x ours", f"{q['naive_over_ours']:.1f} x",
                                 q["naive_over_ours"] >= NAIVE_TIMES))
    else:
        verdicts.append(_verdict(f"naive >= {NAIVE_TIMES:g} x ours", "", None))
    runs = {run["connections"]: run for run in results.get("api", {}).get("runs", [])}
    at = runs.get(API_CONNECTIONS)
    rate_target = f"API >= {API_REQUESTS_PER_SECOND:g} req/s at {API_CONNECTIONS} connections"
    p99_target = f"API p99 < {API_P99_MS:g} ms at {API_CONNECTIONS} connections"
    if at is None:
        verdicts += [_verdict(rate_target, "", None), _verdict(p99_target, "", None)]
    else:
        verdicts.append(_verdict(rate_target, f"{at['requests_per_second']:,.0f} req/s",
                                 at["requests_per_second"] >= API_REQUESTS_PER_SECOND))
        verdicts.append(_verdict(p99_target, f"{at['p99_ms']:.1f} ms", at["p99_ms"] < API_P99_MS))
    if "to_floor" in q:
        verdicts.append({"target": "collections + close over the database floor", "measured":
                         f"{q['to_floor']:.2f} x (floor {q['floor_over_copy_limit']:.2f} x COPY)", "met": None,
                         "verdict": "info"})
    peaks = process_peaks(results)
    if peaks:
        worst = max(peaks, key=peaks.__getitem__)
        verdicts.append(_verdict(f"peak memory < {PEAK_MB / 1024:g} GB, every process",
                                 f"{peaks[worst]:,.0f} MB ({worst}; {len(peaks)} processes)",
                                 all(mb < PEAK_MB for mb in peaks.values())))
    else:
        verdicts.append(_verdict(f"peak memory < {PEAK_MB / 1024:g} GB, every process", "", None))
    return verdicts
