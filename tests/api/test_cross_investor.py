"""An investor against every other investor's ids, on every endpoint the schema lists.

The endpoints come from the OpenAPI schema (/api/v1/schema/), not from a list
written here: a new endpoint is probed as soon as it is in the schema, and a
path parameter this test does not know where to find other investors'
values for fails the test, naming it.

The market: XYZ-2026-1 held by INV-01 to INV-10, ABC-2026-2 by Bob (INV-02)
and Carol (INV-03, who bought some of Bob's), February closed on both,
March closed on ABC only (a period with distributions for Bob and Carol and
none for Alice), and a payment posted by operations staff with an
Idempotency-Key.

For the investor A (Alice in CI; Alice, Bob and Carol under `make soak`,
where the filters also name every other holder), every path with a parameter is called with every method and with
every value that belongs to other investors and not to A: their
distribution and register ids, the deals only they hold, the periods only
they were paid in, those deals' loans and ledger events, other logins'
webhook subscriptions and deliveries, and staff's idempotency keys. Each answer must be a refusal (403 or 404; 405 for a
method the schema does not document), the same status and body as for a
value that does not exist, hold nothing A may not see (tests.api.leaks),
replay nothing and write no event. Every list is also asked with filters
naming other investors' deals, periods, streams and names, and must show
A nothing of theirs; no table's row count changes over the whole run.
"""
from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

import pytest
from django.apps import apps
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from api.access import holder_of, visible_trusts
from api.idempotency import HEADER
from api.models import IdempotencyRecord
from ledger.models import Event
from remittance.models import Distribution
from servicing.models import loan_stream
from tests.api.conftest import SECOND_TRUST
from tests.api.leaks import Sight
from tests.integration.remittance.months import close, pay_everyone
from tests.soak import SOAK, trials
from trusts.models import Holder, HoldingMovement, PoolLoan, register_stream, trust_stream
from webhooks.models import Delivery, DeliveryStatus, Subscription

pytestmark = [pytest.mark.django_db, pytest.mark.soak]

METHODS = ("get", "post", "put", "patch", "delete")
REFUSED = {403, 404}  # the API's convention: 403 for staff-only endpoints, 404 for what is not the caller's
UNDOCUMENTED = REFUSED | {405}
# A value of each kind that nothing has: the twin every probe's answer must be indistinguishable from.
NOTHING = {"id": "987654321", "position": "987654321", "code": "NO-SUCH-TRUST", "period": "2031-07",
           "loan_number": "NO-SUCH-LOAN", "subscription_id": "987654321", "delivery_id": "987654321"}
# Parameters the schema does not list, tried on every list anyway: only the login decides whose data it is.
UNLISTED_FILTERS = ("holder", "holder_code", "holder_id")
# How many other holders the filters name in CI (every one of them under soak); path probes use every value.
NAMED_HOLDERS = 3
PROJECT_APPS = ("ledger", "servicing", "trusts", "remittance", "api", "analytics", "approvals", "webhooks")
STAFF_PAYMENT = {"loan_number": "L011", "amount": "849.55", "received_on": "2026-04-01",
                 "reference": "BANK-2026-04-01-0011"}


@pytest.fixture
def market(alice, bob, carol, olivia):
    """Closed periods with distributions for several investors, and a staff write with an idempotency key."""
    pay_everyone("2026-03", loans=["L011", "L012"])
    close("2026-03", trust=SECOND_TRUST)
    answer = olivia.post("/api/v1/payments/", STAFF_PAYMENT, format="json",
                         **{f"HTTP_{HEADER.upper().replace('-', '_')}": "staff-payment-0011"})
    assert answer.status_code == 201, answer.content
    # Webhook subscriptions with a delivery each: every investor's and staff's (their ids are probed).
    for client, path in ((alice, "me/webhooks"), (bob, "me/webhooks"), (carol, "me/webhooks"), (olivia, "webhooks")):
        made = client.post(f"/api/v1/{path}/", {"url": "https://portal.example.com/hooks", "kinds": ["period_closed"]},
                           format="json")
        assert made.status_code == 201, made.content
        Delivery.objects.create(subscription_id=made.json()["id"], kind="period_closed", event_position=1,
                                body="{}", status=DeliveryStatus.FAILED)
    return {"alice": alice}


@dataclass
class Others:
    """What belongs to every holder but the viewer: per path parameter, their values and those only theirs."""

    values: dict[str, list[str]]
    exclusive: dict[str, set[str]]
    filters: dict[str, list[str]]
    own: dict[str, str] = field(default_factory=dict)  # one of the viewer's own values per parameter

    @classmethod
    def of(cls, user) -> Others:
        holder = holder_of(user)
        seen = set(visible_trusts(user).values_list("code", flat=True))
        theirs = Holder.objects.exclude(pk=holder.pk)
        hidden_trusts = set(HoldingMovement.objects.filter(holder__in=theirs).exclude(
            security_class__trust__code__in=seen).values_list("security_class__trust__code", flat=True))
        hidden_loans = _loans(hidden_trusts)
        own_ids = _row_ids(Holder.objects.filter(pk=holder.pk))
        their_periods = set(Distribution.objects.filter(holder__in=theirs).values_list("period", flat=True))
        own_periods = set(Distribution.objects.filter(holder=holder).values_list("period", flat=True))
        hidden_streams = _streams(hidden_trusts, hidden_loans)
        positions = {str(p) for p in Event.objects.filter(stream__in=hidden_streams).values_list("position", flat=True)}
        subscriptions = Subscription.objects.exclude(owner=user)
        values = {
            "id": sorted(str(i) for i in _row_ids(theirs) - own_ids),
            "subscription_id": sorted(str(i) for i in subscriptions.values_list("id", flat=True)),
            "delivery_id": sorted(str(i) for i in Delivery.objects.filter(
                subscription__in=subscriptions).values_list("id", flat=True)),
            "code": sorted(hidden_trusts), "period": sorted(their_periods),
            "loan_number": sorted(hidden_loans), "position": sorted(positions, key=int),
        }
        exclusive = {**{k: set(v) for k, v in values.items()}, "period": their_periods - own_periods}
        named = _named(theirs, hidden_trusts)
        filters = {
            "trust": sorted(hidden_trusts), "period": sorted(their_periods), "period_from": sorted(their_periods),
            "period_to": sorted(their_periods), "class": sorted(set(HoldingMovement.objects.filter(
                holder__in=theirs).values_list("security_class__name", flat=True))),
            "stream": sorted(hidden_streams), "stream_prefix": sorted(hidden_streams),
            "search": sorted(hidden_loans) + [h.name for h in named],
            "holder": [h.code for h in named], "holder_code": [h.code for h in named],
            "holder_id": [str(h.pk) for h in named],
        }
        own_events = Event.objects.filter(stream__in=_streams(seen, _loans(seen))).values_list("position", flat=True)
        own = {"id": str(min(own_ids)), "code": min(seen), "period": min(own_periods),
               "loan_number": min(_loans(seen)), "position": str(own_events.first()),
               "subscription_id": str(Subscription.objects.filter(owner=user).values_list("id", flat=True).first()),
               "delivery_id": str(Delivery.objects.filter(subscription__owner=user).values_list("id", flat=True)
                                  .first())}
        return cls(values=values, exclusive=exclusive, filters=filters, own=own)


def _named(theirs, hidden_trusts) -> list[Holder]:
    """The other holders a filter names: those holding a deal the viewer does not first; all of them under soak."""
    holding_hidden = set(HoldingMovement.objects.filter(security_class__trust__code__in=hidden_trusts)
                         .values_list("holder_id", flat=True))
    ranked = sorted(theirs, key=lambda h: (h.pk not in holding_hidden, h.code))
    return ranked[:trials(NAMED_HOLDERS, len(ranked))]


def _loans(trusts) -> set[str]:
    return set(PoolLoan.objects.filter(trust__code__in=trusts).values_list("loan__loan_number", flat=True))


def _streams(trusts, loans) -> set[str]:
    return {*(trust_stream(c) for c in trusts), *(register_stream(c) for c in trusts), *(loan_stream(n) for n in loans)}


def _row_ids(holders) -> set[int]:
    """The ids of the holders' distributions and register lines (the two tables whose ids a path takes)."""
    return (set(Distribution.objects.filter(holder__in=holders).values_list("id", flat=True))
            | set(HoldingMovement.objects.filter(holder__in=holders).values_list("id", flat=True)))


def _schema() -> dict:
    answer = APIClient().get("/api/v1/schema/?format=json")
    assert answer.status_code == 200
    return answer.json()


def _path_parameters(template: str) -> list[str]:
    return re.findall(r"{(\w+)}", template)


@dataclass
class Probe:
    """One investor's probing: the requests made, what each refused, and everything found wrong."""

    client: APIClient
    sight: Sight
    others: Others
    keys: list[str]
    requests: int = 0
    probed: set = field(default_factory=set)  # (method, template) refused with another's value
    leaks: list[str] = field(default_factory=list)
    _twins: dict = field(default_factory=dict)

    def call(self, method: str, url: str, key: str | None = None):
        self.requests += 1
        extra = {f"HTTP_{HEADER.upper().replace('-', '_')}": key} if key else {}
        if method == "get":
            return self.client.get(url, **extra)
        # A body that names another's loan, as a close request or a payment would.
        return getattr(self.client, method)(url, {"status": "closed", **STAFF_PAYMENT}, format="json", **extra)

    def refused(self, method: str, template: str, documented: bool, values: dict[str, str]):
        """Another investor's values in the path: refused exactly as values that do not exist."""
        url = template.format(**values)
        key = self.keys[self.requests % len(self.keys)] if method != "get" and self.keys else None
        events = Event.objects.count()
        answer = self.call(method, url, key)
        twin_values = {k: (NOTHING[k] if v in self.others.exclusive[k] else v) for k, v in values.items()}
        twin = self._twin(method, template.format(**twin_values))
        problems = self.sight.leaks(url, answer.content.decode(errors="replace"))
        if answer.status_code not in (REFUSED if documented else UNDOCUMENTED):
            problems.append(f"status {answer.status_code}")
        if (answer.status_code, _masked(answer, values)) != (twin.status_code, _masked(twin, twin_values)):
            problems.append(f"answers {answer.status_code} unlike {twin.status_code} for nothing")
        if answer.has_header("Idempotent-Replayed"):
            problems.append(f"replayed the answer to key {key!r}")
        if Event.objects.count() != events:
            problems.append("wrote an event")
        self.probed.add((method, template))
        self._report(method, url, problems)

    def filtered(self, url: str, params: dict):
        """A list asked with a filter naming another investor's things: nothing of theirs in the answer."""
        answer = self.client.get(url, params)
        self.requests += 1
        problems = self.sight.leaks(url, answer.content.decode(errors="replace"))
        if answer.status_code >= 500:
            problems.append(f"status {answer.status_code}")
        self._report("get", f"{url}?{params}", problems)

    def _twin(self, method: str, url: str):
        if (method, url) not in self._twins:
            self._twins[(method, url)] = self.call(method, url)
        return self._twins[(method, url)]

    def _report(self, method: str, url: str, problems: list[str]):
        if problems:
            self.leaks.append(f"{self.sight.who}: {method.upper()} {url}: {problems}")


def _masked(answer, values: dict[str, str]) -> str:
    """The answer's body with the values asked for blanked: an error may name what was asked, not more."""
    text = answer.content.decode(errors="replace")
    for value in values.values():
        text = text.replace(value, "<value>")
    return text


def probe_every_endpoint(username: str, schema: dict, client: APIClient) -> Probe:
    user = User.objects.get(username=username)
    others = Others.of(user)
    keys = list(IdempotencyRecord.objects.exclude(user=user).values_list("key", flat=True))
    probe = Probe(client=client, sight=Sight.of(user, username), others=others, keys=keys)
    for template, operations in schema["paths"].items():
        names = _path_parameters(template)
        unknown = [n for n in names if n not in others.values]
        assert not unknown, f"{template}: no other investor's values known for {unknown}; teach Others.of"
        for method in METHODS:
            _probe_path(probe, template, names, method, documented=method in operations)
        if "get" in operations:
            _probe_filters(probe, template, names, operations["get"])
    return probe


def _probe_path(probe: Probe, template: str, names: list[str], method: str, documented: bool):
    if not names:
        return
    pools = [probe.others.values[n] for n in names]
    for combination in itertools.product(*pools):
        values = dict(zip(names, combination))
        if any(v in probe.others.exclusive[n] for n, v in values.items()):
            probe.refused(method, template, documented, values)


def _probe_filters(probe: Probe, template: str, names: list[str], operation: dict):
    if any(n not in probe.others.own for n in names):
        return
    url = template.format(**{n: probe.others.own[n] for n in names})
    listed = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]
    for name in [*listed, *UNLISTED_FILTERS]:
        for value in probe.others.filters.get(name, []):
            probe.filtered(url, {name: value})


def _row_counts() -> dict[str, int]:
    return {m._meta.label: m.objects.count() for m in apps.get_models() if m._meta.app_label in PROJECT_APPS}


def _viewers(market) -> dict[str, APIClient]:
    """Alice in CI; under `make soak` Bob (both deals) and Carol (part of ABC) probe everyone else too."""
    viewers = {"alice": market["alice"]}
    if SOAK:
        viewers.update({"bob": _client("bob"), "carol": _client("carol")})
    return viewers


def _client(username: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {User.objects.get(username=username).auth_token.key}")
    return client


def test_no_investor_reaches_another_investors_data(market, figures):
    schema = _schema()
    viewers = _viewers(market)
    before = _row_counts()
    probes = [probe_every_endpoint(name, schema, client) for name, client in viewers.items()]
    with_parameters = {(m, t) for t in schema["paths"] for m in METHODS if _path_parameters(t)}
    probed = set().union(*(p.probed for p in probes))
    leaks = [leak for p in probes for leak in p.leaks]
    figures.record("cross-investor probes", investors=len(viewers), endpoints=len(probed),
                   documented_operations=sum(len(ops) for ops in schema["paths"].values()),
                   probes=sum(p.requests for p in probes), leaks=len(leaks))
    assert with_parameters - probed == set(), f"never probed with another investor's values: {with_parameters - probed}"
    assert not leaks, "\n".join(leaks[:50])
    assert before and _row_counts() == before, "a refused request changed a table"
