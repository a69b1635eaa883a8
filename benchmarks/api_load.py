"""The investor API under load: logins for the investors, gunicorn serving, wrk driving it on loopback.

    python -m benchmarks.api_load --database-url URL [--seconds 10] [--tokens 500] [--connections 1,10,50]

Three parts, used by `benchmarks.steps.api` (and by `main()` for a run on its own):

- `investor_tokens(limit)` gives the first `limit` holders (by code) a portal
  login and a DRF token, idempotently: a second run creates nothing;
- `serve(database_url, port)` runs gunicorn in the production shape (DEBUG
  off, persistent database connections, sync workers as in the Dockerfile)
  on 127.0.0.1 and reports the peak memory of its processes;
- `run_api_load(...)` runs wrk at each connection count with a Lua script
  that rotates over the tokens and the two list endpoints a portal opens
  first, `/api/v1/me/distributions/` and `/api/v1/me/holdings/`, and returns
  throughput, median and 99th percentile latency, and every answer that was
  not a 2xx, by status; `refuse_non_2xx(runs)` raises when there was any (the
  figures of a server that answered errors are not the API's).

Everything stays on loopback and every step is bounded in time.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent

# What a portal sends when an investor opens it: the first page of each list, 50 rows,
# the holdings as of today (the endpoint's default). Other query parameters are filters
# an investor picks later; the first pages are what every visit costs.
ENDPOINTS = ("/api/v1/me/distributions/?page_size=50", "/api/v1/me/holdings/?page_size=50")
LOOPBACK = {"127.0.0.1", "localhost"}
USERNAME_PREFIX = "bench-investor-"


# --- Logins and tokens -----------------------------------------------------------------------


def investor_tokens(limit: int) -> list[str]:
    """Token keys of the first `limit` holders by code, each holder linked to a login first.

    Idempotent: a holder already linked keeps its login, a login that already
    has a token keeps it, so a second run writes nothing. Logins and tokens
    are created in bulk; the link itself goes through
    trusts.services.holders.holder_details_change, the one writer of a
    holder's details, which records it as HolderDetailsChanged on the log.
    """
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from rest_framework.authtoken.models import Token

    from trusts.models import Holder
    from benchmarks import BENCHMARK
    from trusts.services.holders import holder_details_change

    User = get_user_model()
    holders = list(Holder.objects.order_by("code")[:limit])
    unlinked = [h for h in holders if h.user_id is None]
    if unlinked:
        # The login's name comes from the holder's id: unique and valid whatever the code looks like.
        wanted = {_username(h): h for h in unlinked}
        existing = {u.username: u for u in User.objects.filter(username__in=wanted)}
        # A login made by an earlier run that stopped before linking is reused, not made twice.
        User.objects.bulk_create([
            User(username=name, password=make_password(None))  # unusable password: token-only logins
            for name in wanted if name not in existing
        ])
        users = {u.username: u for u in User.objects.filter(username__in=wanted)}
        for name, holder in wanted.items():
            holder_details_change(code=holder.code, name=holder.name, contact=holder.contact, user=users[name],
                                  acting_user=BENCHMARK)
        holders = list(Holder.objects.filter(pk__in=[h.pk for h in holders]).order_by("code"))
    user_ids = [h.user_id for h in holders]
    keys = dict(Token.objects.filter(user_id__in=user_ids).values_list("user_id", "key"))
    # bulk_create skips Token.save(), which is where a key is normally generated.
    new = [Token(user_id=uid, key=Token.generate_key()) for uid in user_ids if uid not in keys]
    Token.objects.bulk_create(new)
    keys.update((t.user_id, t.key) for t in new)
    return [keys[uid] for uid in user_ids]


def _username(holder) -> str:
    return f"{USERNAME_PREFIX}{holder.pk}"


# --- The server ------------------------------------------------------------------------------


@dataclass
class Server:
    """A running gunicorn: its address and master process, and the log it writes."""

    base_url: str
    process: subprocess.Popen
    log_path: Path
    _peaks: dict[int, float] = field(default_factory=dict)

    def pids(self) -> list[int]:
        """The master and its workers (the master's children), as they are now."""
        pids = [self.process.pid]
        try:
            children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
            pids += [int(p) for p in children]
        except OSError:
            pass
        return pids

    def sample_memory(self) -> None:
        """Remember each live process's VmHWM; a worker that was replaced keeps its last figure."""
        from benchmarks.workers import peak_memory_mb

        for pid in self.pids():
            mb = peak_memory_mb(pid)
            if mb:
                self._peaks[pid] = max(mb, self._peaks.get(pid, 0.0))

    def peak_memory_by_process(self) -> dict[int, float]:
        """Peak resident memory (VmHWM, MB) per process id, master included."""
        self.sample_memory()
        return dict(self._peaks)

    def peak_memory_mb(self) -> float:
        """The SUM of the peaks of the master and every worker, in MB: the server's whole footprint.

        (A sum over-counts pages the workers share with the master after the
        fork, so it is an upper bound; `peak_memory_by_process` has each one.)
        Read it before the server stops: /proc forgets a process once it exits.
        """
        return sum(self.peak_memory_by_process().values())


def server_environment(database_url: str, base: dict[str, str] | None = None, *,
                       cache_url: str | None = None) -> dict[str, str]:
    """The environment of the production shape for the benchmark's server.

    Every name here is one config/settings.py already reads. With `cache_url`
    (a Redis URL), or a CACHE_URL in the environment, the workers share that
    cache, as production's do, under a key prefix of this run's own: answers
    cached for an earlier bench database (dropped and made again, with the
    same ids) are never found.
    """
    env = dict(os.environ if base is None else base)
    secret = env.get("SECRET_KEY", "")
    env.update({
        "DATABASE_URL": database_url,
        "DEBUG": "false",
        # Production refuses a weak key; a throwaway one for this run when none is set.
        "SECRET_KEY": secret if len(secret) >= 50 else secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        # TLS ends at a load balancer in production; here there is none, and the
        # redirect to https would turn every answer into a 301.
        "SECURE_SSL_REDIRECT": "false",
        # Persistent connections, as a production server keeps them: no connect per request.
        "DATABASE_CONN_MAX_AGE": env.get("DATABASE_CONN_MAX_AGE", "600"),
        # Throttles: reads are never throttled (api.throttles.WriteThrottle counts only
        # writes), and the load only reads; the two rates are raised anyway so that
        # nothing in the run can be refused with a 429.
        "API_WRITE_RATE": "1000000/second",
        "API_LOGIN_RATE": "1000000/second",
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    })
    if cache_url:
        env["CACHE_URL"] = cache_url
    if env.get("CACHE_URL"):
        env["CACHE_KEY_PREFIX"] = f"bench-{secrets.token_hex(6)}"
    return env


@contextmanager
def serve(database_url: str, port: int, workers: int = 2, *, cache_url: str | None = None,
          ready_timeout: float = 60) -> Iterator[Server]:
    """gunicorn on 127.0.0.1:`port` against `database_url`, until the block ends (even on error).

    Sync workers, as the Dockerfile runs them. Waits until the server answers
    HTTP, yields a Server (call `.peak_memory_mb()` inside the block), then
    stops it: SIGTERM for a graceful stop, SIGKILL to the whole process group
    if it has not stopped within 15 seconds.
    """
    log_path = Path(tempfile.mkstemp(prefix="bench-gunicorn-", suffix=".log")[1])
    log = open(log_path, "w")
    command = [sys.executable, "-m", "gunicorn", "config.wsgi:application",
               "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
               # A benchmark request never takes long; a stuck one should fail, not hang the run.
               "--timeout", "30", "--graceful-timeout", "10",
               # No access log: writing a line per request would be part of what is measured.
               "--error-logfile", "-", "--log-level", "warning"]
    # Its own session (process group): the SIGKILL fallback reaches the workers too.
    process = subprocess.Popen(command, cwd=ROOT, env=server_environment(database_url, cache_url=cache_url), stdout=log,  # fixed argv, no shell # nosec B603
                               stderr=subprocess.STDOUT, start_new_session=True)
    server = Server(base_url=f"http://127.0.0.1:{port}", process=process, log_path=log_path)
    try:
        _wait_until_answering(server, timeout=ready_timeout)
        server.sample_memory()
        yield server
    finally:
        _stop(process)
        log.close()


def _wait_until_answering(server: Server, *, timeout: float) -> None:
    """Poll /api/v1/me/ (401 without a token: any HTTP answer means Django is up) until `timeout`."""
    host, port = "127.0.0.1", int(urlparse(server.base_url).port)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {server.process.returncode}:\n{_tail(server.log_path)}")
        try:
            with socket.create_connection((host, port), timeout=2) as conn:
                conn.sendall(b"GET /api/v1/me/ HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
                if conn.recv(12).startswith(b"HTTP/"):
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer within {timeout:.0f} s:\n{_tail(server.log_path)}")


def _stop(process: subprocess.Popen, grace: float = 15) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
    # The group is the one this module created (start_new_session), identified by its id.
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    process.wait()


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


# --- The load --------------------------------------------------------------------------------

LUA = r"""
-- Rotates over the tokens and the endpoints; counts every answer that is not a 2xx, by status.
local tokens = {%(tokens)s}
local paths = {%(paths)s}
local threads = {}
local counter = 0
local by_status = {}
non2xx = 0
-- "404:3,500:1": the counts as plain text, which thread:get copies between threads as it is.
non2xx_statuses = ""

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_number", #threads)
end

function init(args)
  -- Each thread starts at another place in the rotation: concurrent requests are for different investors.
  counter = (thread_number - 1) * 7919
end

function request()
  counter = counter + 1
  -- Each token asks for every endpoint in turn, then the next token.
  local path = paths[(counter %% #paths) + 1]
  local token = tokens[(math.floor(counter / #paths) %% #tokens) + 1]
  return wrk.format("GET", path, {["Authorization"] = "Token " .. token, ["Accept"] = "application/json"})
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    by_status[status] = (by_status[status] or 0) + 1
    local parts = {}
    for code, n in pairs(by_status) do
      table.insert(parts, code .. ":" .. n)
    end
    non2xx_statuses = table.concat(parts, ",")
  end
end

function done(summary, latency, requests)
  local total = 0
  local statuses = {}
  for _, thread in ipairs(threads) do
    total = total + thread:get("non2xx")
    local text = thread:get("non2xx_statuses")
    if text ~= "" then
      table.insert(statuses, text)
    end
  end
  io.write(string.format("API_LOAD_NON_2XX %%d\n", total))
  io.write(string.format("API_LOAD_NON_2XX_STATUSES %%s\n", table.concat(statuses, ",")))
end
"""


def lua_script(tokens: Sequence[str], paths: Sequence[str] = ENDPOINTS) -> str:
    """The wrk script for these tokens and paths (both must be plain URL-safe text)."""
    for text in (*tokens, *paths):
        if not re.fullmatch(r"[\w./?=&%-]+", text):
            raise ValueError(f"not safe to put in the Lua script: {text!r}")
    quote = lambda items: ", ".join(f'"{item}"' for item in items)  # noqa: E731
    return LUA % {"tokens": quote(tokens), "paths": quote(paths)}


def run_api_load(*, base_url: str, tokens: list[str], connections: Sequence[int] = (1, 10, 50),
                 seconds: int = 10, warmup_seconds: int = 2) -> list[dict]:
    """wrk against `base_url` for `seconds` at each connection count; one dict of figures per count.

    Threads are min(2, connections): the machine has two cores, and the
    server needs them too. The figures are parsed from wrk's --latency
    report; non-2xx answers come from the Lua script's own count. A short
    unrecorded run first warms every worker (its first requests open the
    database connection and fill Django's caches), so the figures are the
    steady state's.
    """
    if urlparse(base_url).hostname not in LOOPBACK:
        raise ValueError(f"the load stays on loopback, not {base_url}")
    if not tokens:
        raise ValueError("no tokens: investor_tokens() found no holders")
    with tempfile.NamedTemporaryFile("w", prefix="bench-api-", suffix=".lua", delete=False) as script:
        script.write(lua_script(tokens))
    try:
        if warmup_seconds > 0:
            _run_wrk(base_url, script.name, 4, warmup_seconds)
        return [_run_wrk(base_url, script.name, count, seconds) for count in connections]
    finally:
        os.unlink(script.name)


def _run_wrk(base_url: str, script: str, connections: int, seconds: int) -> dict:
    command = ["wrk", "--threads", str(min(2, connections)), "--connections", str(connections),
               "--duration", f"{seconds}s", "--timeout", "5s", "--latency", "--script", script, base_url + "/"]
    # Bounded: wrk's own duration, plus a margin for its start and its last requests.
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 30, check=False)  # fixed argv, no shell # nosec B603
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    return {"connections": connections, **parse_wrk(done.stdout)}


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text).groups()
    return float(number) * _UNITS_MS[unit]


def parse_wrk(output: str) -> dict:
    """The figures of one wrk --latency report (with the Lua script's API_LOAD_NON_2XX line)."""
    def find(pattern: str, default=None):
        match = re.search(pattern, output, re.MULTILINE)
        if match is None and default is None:
            raise ValueError(f"wrk output has no {pattern!r}:\n{output}")
        return match.groups() if match else default

    statuses: dict[int, int] = {}
    for item in filter(None, (find(r"^API_LOAD_NON_2XX_STATUSES ?(\S*)$", ("",))[0]).split(",")):
        code, count = item.split(":")
        statuses[int(code)] = statuses.get(int(code), 0) + int(count)  # one entry per thread: summed
    socket_errors = sum(int(n) for n in find(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", ("0", "0", "0", "0")))
    return {
        "requests_per_second": float(find(r"^Requests/sec:\s+([\d.]+)")[0]),
        "p50_ms": _ms(find(r"^\s+50(?:\.000)?%\s+(\S+)")[0]),
        "p99_ms": _ms(find(r"^\s+99(?:\.000)?%\s+(\S+)")[0]),
        "non_2xx": int(find(r"^API_LOAD_NON_2XX (\d+)")[0]),
        "non_2xx_statuses": statuses,
        "socket_errors": socket_errors,
        "requests": int(find(r"^\s+(\d+) requests in ")[0]),
    }


class RefusedFigures(RuntimeError):
    """The load got answers that were not 2xx: its figures would measure errors, not the API."""


def refuse_non_2xx(runs: list[dict]) -> None:
    """Raise RefusedFigures naming the statuses seen when any run got an answer that was not a 2xx."""
    bad = [r for r in runs if r["non_2xx"]]
    if bad:
        seen = "; ".join(
            f"{r['connections']} connections: {r['non_2xx']} of {r['requests']} "
            f"({', '.join(f'{n} x {code}' for code, n in sorted(r.get('non_2xx_statuses', {}).items())) or 'statuses unknown'})"
            for r in bad)
        raise RefusedFigures(f"the investor API answered requests with a status that is not 2xx: {seen}")


# --- On its own ------------------------------------------------------------------------------


def format_table(runs: list[dict]) -> str:
    """The figures as a plain table, one line per connection count."""
    head = f"{'connections':>11} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'requests':>9} {'non-2xx':>8} {'sock err':>8}"
    lines = [head, "-" * len(head)]
    for r in runs:
        lines.append(f"{r['connections']:>11} {r['requests_per_second']:>9,.0f} {r['p50_ms']:>8.1f} "
                     f"{r['p99_ms']:>8.1f} {r['requests']:>9,} {r['non_2xx']:>8} {r['socket_errors']:>8}")
    return "\n".join(lines)


def free_port() -> int:
    """A port nobody listens on now, on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main(argv=None) -> int:
    """Tokens, server, load, table; the database must already hold holders (and their data)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--seconds", type=int, default=10, help="seconds of load per connection count")
    parser.add_argument("--tokens", type=int, default=500, help="investors the load rotates over")
    parser.add_argument("--connections", default="1,10,50", help="comma-separated connection counts")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--port", type=int, default=0, help="default: a free port")
    parser.add_argument("--cache-url", default=os.environ.get("CACHE_URL"),
                        help="the workers' shared cache (redis://...), as production's CACHE_URL; "
                             "default: $CACHE_URL, else each worker caches on its own")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON too")
    args = parser.parse_args(argv)

    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.db import connections

    tokens = investor_tokens(args.tokens)
    connections.close_all()  # this process only prepared; it holds no connection during the load
    port = args.port or free_port()
    counts = [int(c) for c in args.connections.split(",") if c.strip()]
    with serve(args.database_url, port, workers=args.workers, cache_url=args.cache_url) as server:
        runs = run_api_load(base_url=server.base_url, tokens=tokens, connections=counts, seconds=args.seconds)
        peaks = server.peak_memory_by_process()
    print(f"investor API: {len(tokens)} investors, {', '.join(ENDPOINTS)}; "
          f"gunicorn {args.workers} sync workers; {args.seconds} s per connection count")
    print(format_table(runs))
    print(f"server peak memory (VmHWM): {sum(peaks.values()):.0f} MB summed over master and workers "
          f"({', '.join(f'{mb:.0f}' for mb in peaks.values())})")
    if args.json:
        print(json.dumps({"investors": len(tokens), "runs": runs, "server_peak_mb": sum(peaks.values())}))
    refuse_non_2xx(runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
