"""Webhooks in the admin: staff read subscriptions and deliveries with their attempts, never a secret;
those with the change permission deactivate and replay, a view-only clerk cannot."""
import pytest
from django.contrib.auth.models import Permission

from tests.integration.webhooks.test_deliveries import investor
from webhooks.models import Delivery, DeliveryAttempt, DeliveryStatus, Subscription
from webhooks.services import subscription_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def failed_delivery(february):
    alice = investor("alice", "INV-01")
    subscription, secret = subscription_create(url="https://portal.example.com/hooks", kinds=["distribution_paid"],
                                               holder_code="INV-01", acting_user=alice)
    delivery = Delivery.objects.create(subscription=subscription, kind="distribution_paid", event_position=3,
                                       body='{"kind":"distribution_paid"}', status=DeliveryStatus.FAILED)
    DeliveryAttempt.objects.create(delivery=delivery, series=1, number=1, attempted_at="2026-03-02T10:00:00Z",
                                   duration_ms=40, status_code=503, response_excerpt="portal busy", delivered=False)
    return delivery, secret


def staff(django_user_model, username, *codenames):
    user = django_user_model.objects.create_user(username, password="pw", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="webhooks", codename__in=codenames))
    return user


def test_staff_read_deliveries_and_attempts_but_never_the_secret(client, django_user_model, failed_delivery):
    delivery, secret = failed_delivery
    client.force_login(staff(django_user_model, "viewer", "view_subscription", "view_delivery",
                             "view_deliveryattempt"))
    pages = [client.get("/admin/webhooks/subscription/"),
             client.get(f"/admin/webhooks/subscription/{delivery.subscription_id}/change/"),
             client.get("/admin/webhooks/delivery/"), client.get(f"/admin/webhooks/delivery/{delivery.pk}/change/")]
    assert [p.status_code for p in pages] == [200] * 4
    assert all(secret not in p.content.decode() for p in pages)
    assert "portal busy" in pages[3].content.decode()
    # View-only: no action offered, and one posted anyway does nothing.
    answer = client.post("/admin/webhooks/delivery/", {"action": "replay", "_selected_action": [delivery.pk]})
    assert answer.status_code in (200, 302)
    delivery.refresh_from_db()
    assert delivery.series == 1 and delivery.status == DeliveryStatus.FAILED


def test_the_operations_group_may_read_deactivate_and_replay(db):
    from approvals.staff_groups import OPERATIONS, staff_groups_ensure
    from django.contrib.auth.models import Group

    staff_groups_ensure()
    granted = set(Group.objects.get(name=OPERATIONS).permissions.filter(content_type__app_label="webhooks")
                  .values_list("codename", flat=True))
    assert {"view_subscription", "view_delivery", "view_deliveryattempt", "change_subscription",
            "change_delivery"} <= granted


def test_staff_with_the_change_permission_replay_and_deactivate(client, django_user_model, failed_delivery,
                                                                 monkeypatch):
    delivery, _ = failed_delivery
    sent = []
    monkeypatch.setattr("webhooks.services._enqueue", lambda *args, **kwargs: sent.append(args))
    clerk = staff(django_user_model, "clerk", "view_subscription", "view_delivery", "view_deliveryattempt",
                  "change_subscription", "change_delivery")
    client.force_login(clerk)
    client.post("/admin/webhooks/delivery/", {"action": "replay", "_selected_action": [delivery.pk]})
    delivery.refresh_from_db()
    assert (delivery.series, delivery.status, delivery.replayed_by) == (2, DeliveryStatus.PENDING, clerk)
    assert sent == [(delivery.pk, 2, 1)]
    client.post("/admin/webhooks/subscription/", {"action": "deactivate",
                                                  "_selected_action": [delivery.subscription_id]})
    assert not Subscription.objects.get(pk=delivery.subscription_id).active
