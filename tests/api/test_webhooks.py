"""The webhooks endpoints: an investor's (/me/webhooks/) and operations staff's (/webhooks/).

Made, listed, read, deactivated, their deliveries listed and replayed; the
secret shown once; another login's subscription answers 404 as if it did not
exist; a URL into the servers' own networks is refused (SSRF) with the one
error shape, nothing written.
"""
import pytest
from django.contrib.auth.models import User

from webhooks.models import Delivery, DeliveryAttempt, DeliveryStatus, Subscription

pytestmark = pytest.mark.django_db

ME, OPS = "/api/v1/me/webhooks/", "/api/v1/webhooks/"
URL = "https://portal.example.com/hooks/mbs"


def make(client, base=ME, **body):
    return client.post(base, {"url": URL, "kinds": ["distribution_paid"], **body}, format="json")


def test_an_investor_makes_lists_and_deactivates_a_subscription_and_sees_its_secret_once(alice):
    made = make(alice, kinds=["statement_ready", "distribution_paid"], description="our portal")
    assert made.status_code == 201, made.json()
    body = made.json()
    assert body["secret"].startswith("whsec_") and len(body["secret"]) > 40
    assert body["kinds"] == ["distribution_paid", "statement_ready"] and body["holder_code"] == "INV-01"
    assert body["deliveries_url"].endswith(f"/api/v1/me/webhooks/{body['id']}/deliveries/")
    assert Subscription.objects.get().secret == body["secret"]

    listed = alice.get(ME).json()
    assert [s["id"] for s in listed["results"]] == [body["id"]]
    assert "secret" not in listed["results"][0] and "secret" not in alice.get(f"{ME}{body['id']}/").json()

    assert alice.delete(f"{ME}{body['id']}/").status_code == 204
    assert alice.get(f"{ME}{body['id']}/").json()["active"] is False
    assert alice.delete(f"{ME}{body['id']}/").status_code == 204  # again: still deactivated, nothing else


def test_another_logins_subscription_and_deliveries_are_not_found(alice, bob, olivia):
    theirs = make(bob).json()["id"]
    ops = make(olivia, base=OPS, kinds=["period_closed"]).json()["id"]
    for path in (f"{ME}{theirs}/", f"{ME}{theirs}/deliveries/", f"{ME}{ops}/"):
        answer = alice.get(path)
        assert answer.status_code == 404 and answer.json()["error"]["code"] == "not_found", path
    assert alice.delete(f"{ME}{theirs}/").status_code == 404
    assert Subscription.objects.get(pk=theirs).active
    assert alice.get(ME).json()["count"] == 0
    # An investor's subscription is not reachable under the operations path either, even by its own owner.
    assert olivia.get(f"{OPS}{theirs}/").status_code == 404


def test_the_roles_each_have_their_own_path(alice, olivia, nora):
    assert make(alice, base=OPS).status_code == 403
    assert make(olivia).status_code == 403  # no holder: not an investor
    assert make(nora).status_code == 403 and make(nora, base=OPS).status_code == 403
    made = make(olivia, base=OPS, kinds=["period_closed", "distribution_paid", "statement_ready"])
    assert made.status_code == 201 and made.json()["holder_code"] is None


@pytest.mark.parametrize("url", [
    "http://portal.example.com/hooks",  # not https
    "https://127.0.0.1/hooks", "https://localhost/hooks", "https://api.localhost/x",
    "https://10.1.2.3/hooks", "https://192.168.0.10/", "https://172.16.5.4/", "https://100.64.0.1/",
    "https://169.254.169.254/latest/meta-data/",  # a cloud's metadata service
    "https://[::1]/hooks", "https://[fe80::1]/", "https://[fc00::1]/", "https://[::ffff:10.0.0.1]/",
    "https://0.0.0.0/", "https://224.0.0.1/", "https://intranet/hooks", "https://db.internal/",
    "https://user:pw@portal.example.com/", "ftp://portal.example.com/", "not a url", "https:///nohost",
])
def test_a_url_into_the_servers_own_networks_is_refused(alice, settings, url):
    settings.WEBHOOKS_ALLOW_LOOPBACK_HTTP = False
    answer = make(alice, url=url)
    assert answer.status_code == 400, (url, answer.json())
    assert answer.json()["error"]["code"] == "invalid" and answer.json()["error"]["fields"]["url"]
    assert not Subscription.objects.exists()


def test_loopback_only_when_the_setting_allows_it(alice, settings):
    settings.WEBHOOKS_ALLOW_LOOPBACK_HTTP = False
    assert make(alice, url="http://127.0.0.1:8123/hooks").status_code == 400
    settings.WEBHOOKS_ALLOW_LOOPBACK_HTTP = True
    assert make(alice, url="http://127.0.0.1:8123/hooks").status_code == 201
    assert make(alice, url="http://10.0.0.1/hooks").status_code == 400  # private stays refused


def test_bad_kinds_and_unknown_fields_are_refused(alice):
    for body in ({"kinds": []}, {"kinds": ["loan_boarded"]}, {"kinds": "distribution_paid"}, {"secret": "mine"},
                 {"holder_code": "INV-02"}):
        answer = make(alice, **body)
        assert answer.status_code == 400, (body, answer.json())
    assert not Subscription.objects.exists()


def test_deliveries_are_listed_with_their_attempts_and_a_finished_one_replayed(alice, bob, monkeypatch):
    sent = []
    monkeypatch.setattr("webhooks.services._enqueue", lambda *args, **kwargs: sent.append(args))
    subscription = Subscription.objects.get(pk=make(alice).json()["id"])
    delivery = Delivery.objects.create(subscription=subscription, kind="distribution_paid", event_position=7,
                                       body='{"kind":"distribution_paid"}', status=DeliveryStatus.FAILED)
    DeliveryAttempt.objects.create(delivery=delivery, series=1, number=1, attempted_at="2026-03-02T10:00:00Z",
                                   duration_ms=12, status_code=503, response_excerpt="busy", delivered=False)
    listed = alice.get(f"{ME}{subscription.pk}/deliveries/").json()["results"]
    assert listed[0]["body"] == {"kind": "distribution_paid"} and listed[0]["attempts"][0]["status_code"] == 503

    assert bob.post(f"{ME}{subscription.pk}/deliveries/{delivery.pk}/replay/", {}, format="json").status_code == 404
    replayed = alice.post(f"{ME}{subscription.pk}/deliveries/{delivery.pk}/replay/", {}, format="json")
    assert replayed.status_code == 202 and replayed.json()["series"] == 2 and replayed.json()["status"] == "pending"
    assert sent == [(delivery.pk, 2, 1)]
    again = alice.post(f"{ME}{subscription.pk}/deliveries/{delivery.pk}/replay/", {}, format="json")
    assert again.status_code == 409 and again.json()["error"]["code"] == "replay_refused"

    alice.delete(f"{ME}{subscription.pk}/")
    Delivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.FAILED)
    gone = alice.post(f"{ME}{subscription.pk}/deliveries/{delivery.pk}/replay/", {}, format="json")
    assert gone.status_code == 409 and "deactivated" in gone.json()["error"]["message"]


def test_a_login_may_not_have_more_than_twenty_active_subscriptions(alice):
    for _ in range(20):
        assert make(alice).status_code == 201
    refused = make(alice)
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "subscription_refused"
    alice.delete(f"{ME}{Subscription.objects.first().pk}/")
    assert make(alice).status_code == 201
    assert User.objects.get(username="alice").webhooks.count() == 21
