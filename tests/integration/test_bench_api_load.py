"""The investor-API part of the benchmark (benchmarks.api_load), without starting a server or wrk.

investor_tokens links holders to logins through the holder service (so the
log records it) and is idempotent; wrk's report is read correctly, and the
Lua script only ever holds plain tokens and paths.
"""
import pytest
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from benchmarks.api_load import (
    RefusedFigures, free_port, investor_tokens, lua_script, parse_wrk, refuse_non_2xx, run_api_load, server_environment,
)
from ledger.models import Event
from tests.integration.trusts.conftest import loans, trust  # noqa: F401
from trusts.models import Holder

pytestmark = pytest.mark.django_db

WRK_REPORT = """Running 10s test @ http://127.0.0.1:8765/
  2 threads and 10 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    21.37ms    4.87ms  80.12ms   85.00%
    Req/Sec   234.51     20.17   282.00     70.50%
  Latency Distribution
     50%   20.51ms
     75%   23.02ms
     90%   26.75ms
     99%    1.02s
  4690 requests in 10.01s, 10.69MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 3
Requests/sec:    468.55
Transfer/sec:      1.07MB
API_LOAD_NON_2XX 3
API_LOAD_NON_2XX_STATUSES 500:1,401:1,500:1
"""


def test_investor_tokens_link_holders_through_the_service_once(trust):  # noqa: F811
    keys = investor_tokens(3)
    codes = ["INV-01", "INV-02", "INV-03"]
    holders = {h.code: h for h in Holder.objects.filter(code__in=codes)}
    assert len(keys) == 3
    assert keys == [Token.objects.get(user=holders[code].user).key for code in codes]
    # The link is a HolderDetailsChanged on each holder's stream, as an edit in the admin records it.
    assert Event.objects.filter(event_type="HolderDetailsChanged", stream__in=[f"holder:{c}" for c in codes]).count() == 3
    assert not Holder.objects.get(code="INV-04").user
    users, tokens, events = get_user_model().objects.count(), Token.objects.count(), Event.objects.count()
    assert investor_tokens(3) == keys
    assert (get_user_model().objects.count(), Token.objects.count(), Event.objects.count()) == (users, tokens, events)
    # A larger run keeps the first ones and adds the rest.
    assert investor_tokens(5)[:3] == keys
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {keys[0]}")
    assert client.get("/api/v1/me/").json()["holder_code"] == "INV-01"


def test_wrk_report_is_read_with_its_units():
    assert parse_wrk(WRK_REPORT) == {"requests_per_second": 468.55, "p50_ms": 20.51, "p99_ms": 1020.0,
                                     "non_2xx": 3, "non_2xx_statuses": {500: 2, 401: 1},
                                     "socket_errors": 3, "requests": 4690}


def test_the_lua_script_holds_only_plain_text_and_the_load_stays_on_loopback():
    script = lua_script(["a" * 40, "b" * 40])
    assert f'local tokens = {{"{"a" * 40}", "{"b" * 40}"}}' in script
    assert "/api/v1/me/holdings/?page_size=50" in script and "%%" not in script and "%(" not in script
    with pytest.raises(ValueError):
        lua_script(['x" .. os.execute("true") .. "'])
    with pytest.raises(ValueError):
        run_api_load(base_url="http://example.com:80", tokens=["a" * 40])


def test_the_server_runs_in_the_production_shape():
    env = server_environment("postgres://postgres@127.0.0.1:5432/mbs_bench_x", base={})
    assert env["DEBUG"] == "false" and len(env["SECRET_KEY"]) >= 50 and env["SECURE_SSL_REDIRECT"] == "false"
    assert env["DATABASE_URL"].endswith("/mbs_bench_x") and int(env["DATABASE_CONN_MAX_AGE"]) > 0


def test_figures_with_answers_that_are_not_2xx_are_refused_naming_the_statuses():
    run = parse_wrk(WRK_REPORT)
    with pytest.raises(RefusedFigures, match=r"10 connections: 3 of 4690 \(1 x 401, 2 x 500\)"):
        refuse_non_2xx([{**run, "connections": 10}])
    clean = {**run, "non_2xx": 0, "non_2xx_statuses": {}}
    refuse_non_2xx([clean])  # nothing to refuse
    # A report from before the statuses were counted still parses: no statuses.
    old = WRK_REPORT.replace("API_LOAD_NON_2XX_STATUSES 500:1,401:1,500:1\n", "")
    assert parse_wrk(old)["non_2xx_statuses"] == {}


def test_the_server_gets_a_free_port_and_its_own_cache_keys():
    assert 0 < free_port() < 65536
    env = server_environment("postgres://postgres@127.0.0.1:5432/mbs_bench_x", base={},
                             cache_url="redis://127.0.0.1:6379/9")
    again = server_environment("postgres://postgres@127.0.0.1:5432/mbs_bench_x", base={},
                               cache_url="redis://127.0.0.1:6379/9")
    assert env["CACHE_URL"] == "redis://127.0.0.1:6379/9"
    assert env["CACHE_KEY_PREFIX"] != again["CACHE_KEY_PREFIX"]
    assert "CACHE_URL" not in server_environment("postgres://x/mbs_bench_x", base={})
    inherited = server_environment("postgres://x/mbs_bench_x", base={"CACHE_URL": "redis://127.0.0.1:6379/9"})
    assert inherited["CACHE_KEY_PREFIX"].startswith("bench-")
