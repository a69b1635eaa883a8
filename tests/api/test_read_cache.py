"""An investor's lists kept in the cache (api.read_cache), and the token read in one fixed query.

The cache is on here (it is off in every other test, tests/conftest.py). A
test's transaction is never committed, so each write that would commit in
production runs its on-commit callbacks here (django_capture_on_commit_callbacks
with execute=True): that is where trusts.investor_reads gives the new generation.

Bob (INV-02) holds XYZ-2026-1 A and ABC-2026-2 A, both closed for February;
Alice (INV-01) holds XYZ-2026-1 A only.
"""
from datetime import date

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.actors import TESTS
from tests.api import test_cross_investor as cross
from tests.api.conftest import SECOND_TRUST, login
from tests.api.test_cross_investor import market  # noqa: F401
from tests.integration.remittance.months import close, pay_everyone
from trusts import investor_reads
from trusts.services.register import holding_transfer

pytestmark = pytest.mark.django_db

DISTRIBUTIONS = "/api/v1/me/distributions/"
HOLDINGS = "/api/v1/me/holdings/"
ON = {"as_of": "2026-05-01"}  # after March's payment date: the factors paid by then include it


@pytest.fixture(autouse=True)
def _answers_kept(settings):
    settings.API_READ_CACHE = True


# Building a page of distributions costs the token, the page and its classes' losses (the holder's share: `loss`).
BUILT = 3


def get(client, url, params=None):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params or {})
    assert response.status_code == 200, response.content
    return response.json(), len(captured)


def periods(answer) -> list[tuple[str, str]]:
    return sorted((row["trust"], row["period"]) for row in answer["results"])


def test_a_second_read_is_the_kept_answer_and_costs_only_the_token(bob):
    first, first_queries = get(bob, DISTRIBUTIONS)
    again, queries = get(bob, DISTRIBUTIONS)
    assert again == first and periods(first) == [(SECOND_TRUST, "2026-02"), ("XYZ-2026-1", "2026-02")]
    assert first_queries == BUILT and queries == 1  # the token (with login and holder), no page
    # Another query string is another answer, built for it.
    filtered, queries = get(bob, DISTRIBUTIONS, {"trust": SECOND_TRUST})
    assert periods(filtered) == [(SECOND_TRUST, "2026-02")] and queries == BUILT


def test_after_a_close_the_lists_show_the_new_figures_at_once(bob, django_capture_on_commit_callbacks):
    before, _ = get(bob, DISTRIBUTIONS)
    holdings_before, _ = get(bob, HOLDINGS, ON)
    pay_everyone("2026-03", loans=["L011", "L012"])
    with django_capture_on_commit_callbacks(execute=True):
        close("2026-03", trust=SECOND_TRUST)
    after, queries = get(bob, DISTRIBUTIONS)
    assert queries == BUILT, "built again, not the answer kept from before the close"
    assert periods(after) == sorted(periods(before) + [(SECOND_TRUST, "2026-03")])
    # The factor of ABC-2026-2 A moved with March's principal: the holding's current face too.
    holdings_after, _ = get(bob, HOLDINGS, ON)
    abc = [[h for h in answer["results"] if h["trust"] == SECOND_TRUST][0] for answer in (holdings_before,
                                                                                         holdings_after)]
    assert abc[0]["factor"] != abc[1]["factor"] and abc[0]["current_face"] != abc[1]["current_face"]


def test_after_a_transfer_the_holdings_show_it_at_once(bob, django_capture_on_commit_callbacks):
    def abc_face(client):
        answer, _ = get(client, HOLDINGS, ON)
        return [h["original_face"] for h in answer["results"] if h["trust"] == SECOND_TRUST]

    assert abc_face(bob) == ["200000.00"]
    with django_capture_on_commit_callbacks(execute=True):
        holding_transfer(trust_code=SECOND_TRUST, class_name="A", from_holder="INV-02", to_holder="INV-03",
                         face_cents=5_000_000, trade_date=date(2026, 2, 26), settlement_date=date(2026, 3, 2),
                         acting_user=TESTS)
    assert abc_face(bob) == ["150000.00"]
    carol = login("carol", holder="INV-03")
    assert abc_face(carol) == ["50000.00"]


def test_a_write_that_is_rolled_back_leaves_the_kept_answers(bob):
    """The generation changes after a commit only: inside the (never committed) test transaction it stays."""
    generation = investor_reads.current()
    pay_everyone("2026-03", loans=["L011", "L012"])
    close("2026-03", trust=SECOND_TRUST)
    assert investor_reads.current() == generation


def test_an_investor_never_gets_another_investors_kept_answer(alice, bob):
    bobs, _ = get(bob, DISTRIBUTIONS)
    alices, queries = get(alice, DISTRIBUTIONS)  # the same URL, after Bob's answer was kept
    assert queries == BUILT, "built for Alice, not found among Bob's"
    assert periods(alices) == [("XYZ-2026-1", "2026-02")] and periods(bobs) != periods(alices)
    assert {r["id"] for r in alices["results"]}.isdisjoint({r["id"] for r in bobs["results"]})
    # And each keeps getting their own, in any order.
    for client, expected in ((bob, bobs), (alice, alices), (bob, bobs)):
        assert get(client, DISTRIBUTIONS)[0] == expected
        assert get(client, HOLDINGS, ON)[0]["results"] == get(client, HOLDINGS, ON)[0]["results"]
    alice_holdings = get(alice, HOLDINGS, ON)[0]["results"]
    assert {h["trust"] for h in alice_holdings} == {"XYZ-2026-1"}


def test_a_relinked_login_reads_its_new_holders_answers(bob):
    """The key is the holder the token reads now, not the login: a login moved to another holder sees that one's."""
    from trusts.models import Holder
    from trusts.services.holders import holder_details_change

    assert periods(get(bob, DISTRIBUTIONS)[0]) == [(SECOND_TRUST, "2026-02"), ("XYZ-2026-1", "2026-02")]
    user = User.objects.get(username="bob")
    for code, linked in (("INV-02", None), ("INV-01", user)):
        row = Holder.objects.get(code=code)
        holder_details_change(code=code, name=row.name, contact=row.contact, user=linked, acting_user=TESTS)
    assert periods(get(bob, DISTRIBUTIONS)[0]) == [("XYZ-2026-1", "2026-02")]


def test_errors_and_browsable_pages_are_not_kept(bob):
    assert bob.get(DISTRIBUTIONS, {"page": 99}).status_code == 404
    assert bob.get(DISTRIBUTIONS, {"page": 99}).status_code == 404
    assert bob.get(HOLDINGS, {"as_of": "not-a-date"}).status_code == 400
    for _ in range(2):
        with CaptureQueriesContext(connection) as captured:
            page = bob.get(DISTRIBUTIONS, HTTP_ACCEPT="text/html")
        assert page.status_code == 200 and b"XYZ-2026-1" in page.content
        assert any("remittance_distribution" in q["sql"] for q in captured.captured_queries), "built, not kept"


def test_without_a_cache_server_the_lists_are_answered_anyway(bob, monkeypatch):
    def down(*args, **kwargs):
        raise ConnectionError("cache down")

    monkeypatch.setattr("api.read_cache.cache.get_many", down)
    monkeypatch.setattr("api.read_cache.cache.set", down)
    assert periods(get(bob, DISTRIBUTIONS)[0]) == [(SECOND_TRUST, "2026-02"), ("XYZ-2026-1", "2026-02")]


def test_no_investor_reaches_another_investors_kept_answers(market, monkeypatch):  # noqa: F811
    """tests/api/test_cross_investor.py's probe by Alice, with every list she asks asked first by Bob and Carol.

    Every list URL with every filter Alice tries was answered to Bob and to
    Carol just before, and kept: Alice's answers must still hold nothing of theirs.
    """
    others = [cross._client("bob"), cross._client("carol")]
    for client in others:
        for url in (DISTRIBUTIONS, HOLDINGS):
            client.get(url)
    asked_first = []
    probe_filtered = cross.Probe.filtered

    def after_the_others(probe, url, params):
        for client in others:
            client.get(url, params)
        asked_first.append(url)
        return probe_filtered(probe, url, params)

    monkeypatch.setattr(cross.Probe, "filtered", after_the_others)
    probe = cross.probe_every_endpoint("alice", cross._schema(), market["alice"])
    assert not probe.leaks, "\n".join(probe.leaks[:50])
    assert {DISTRIBUTIONS, HOLDINGS} <= set(asked_first)
    assert periods(get(market["alice"], DISTRIBUTIONS)[0]) == [("XYZ-2026-1", "2026-02")]
    assert get(others[0], DISTRIBUTIONS)[1] == 1, "Bob's answer is kept (so Alice's probe ran beside kept answers)"


# --- The token, read every request ------------------------------------------------------------


def test_a_revoked_token_stops_working_at_once(bob):
    assert get(bob, DISTRIBUTIONS)[0]["results"]
    Token.objects.filter(user__username="bob").delete()
    assert bob.get(DISTRIBUTIONS).status_code == 401


def test_a_rotated_token_works_and_the_old_one_does_not(bob):
    user = User.objects.get(username="bob")
    old = Token.objects.get(user=user).key
    get(bob, DISTRIBUTIONS)
    Token.objects.filter(user=user).delete()
    new = Token.objects.create(user=user).key
    assert new != old
    assert bob.get(DISTRIBUTIONS).status_code == 401
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {new}")
    assert periods(get(client, DISTRIBUTIONS)[0]) == [(SECOND_TRUST, "2026-02"), ("XYZ-2026-1", "2026-02")]


def test_a_deactivated_login_is_refused_at_once_even_by_a_bulk_update(bob):
    get(bob, DISTRIBUTIONS)
    User.objects.filter(username="bob").update(is_active=False)  # no signal: nothing to invalidate
    response = bob.get(DISTRIBUTIONS)
    assert response.status_code == 401 and "inactive" in response.content.decode()


def test_the_token_query_builds_what_select_related_did(bob, nora):
    from api.authentication import HOLDER_ATTRIBUTE, TokenAuthentication

    key = Token.objects.get(user__username="bob").key
    with CaptureQueriesContext(connection) as captured:
        user, token = TokenAuthentication().authenticate_credentials(key)
        assert (user.username, token.key, token.user is user, token.user_id == user.pk) == ("bob", key, True, True)
        assert getattr(user, HOLDER_ATTRIBUTE).code == "INV-02" and user.holder.code == "INV-02"
        assert user.holder.user is user
        assert user.date_joined == User.objects.get(pk=user.pk).date_joined  # converted as the ORM does
    assert len(captured) == 2  # the token query, and the comparison's own
    nora_user, _ = TokenAuthentication().authenticate_credentials(Token.objects.get(user__username="nora").key)
    assert getattr(nora_user, HOLDER_ATTRIBUTE) is None
    with pytest.raises(User.holder.RelatedObjectDoesNotExist):
        nora_user.holder  # noqa: B018 (the look-up is what raises)
