"""History is read-only in the admin: no add, change or delete of events, postings or any read model."""
import pytest
from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse
from django_celery_beat.models import PeriodicTask

from ledger.models import Event, Posting
from trusts.models import Holder

pytestmark = pytest.mark.django_db
HISTORY_APPS = ("ledger", "servicing", "trusts", "remittance")
# Holders' names and contacts are reference details edited through a service, not history.
EDITABLE = {Holder}


def registered_history():
    return [pytest.param(model, model_admin, id=model._meta.label)
            for model, model_admin in admin.site._registry.items()
            if model._meta.app_label in HISTORY_APPS and model not in EDITABLE]


@pytest.mark.parametrize("model, model_admin", registered_history())
def test_no_history_admin_adds_changes_deletes_or_offers_an_action(admin_user, model, model_admin):
    request = RequestFactory().get("/admin/")
    request.user = admin_user
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)
    assert model_admin.get_actions(request) == {}


def test_the_holder_admin_deletes_nothing(admin_user):
    request = RequestFactory().get("/admin/")
    request.user = admin_user
    holder_admin = admin.site._registry[Holder]
    assert not holder_admin.has_delete_permission(request) and holder_admin.get_actions(request) == {}


def test_an_event_cannot_be_changed_or_deleted_from_its_pages(admin_client, closed_month):
    event = Event.objects.filter(event_type="PaymentPosted").order_by("position").first()
    change = reverse("admin:ledger_event_change", args=[event.position])
    page = admin_client.get(change).content.decode()
    assert "PaymentPosted" in page and 'name="_save"' not in page and "deletelink" not in page
    assert admin_client.post(change, {"stream": "forged:1", "event_type": "Forged"}).status_code == 403
    assert admin_client.post(reverse("admin:ledger_event_delete", args=[event.position]),
                             {"post": "yes"}).status_code == 403
    posting = Posting.objects.filter(event=event).first()
    assert admin_client.post(reverse("admin:ledger_posting_change", args=[posting.pk]), {}).status_code == 403
    assert admin_client.post(reverse("admin:ledger_posting_delete", args=[posting.pk]),
                             {"post": "yes"}).status_code == 403
    listing = admin_client.get(reverse("admin:ledger_event_changelist")).content.decode()
    assert "delete_selected" not in listing and 'name="action"' not in listing
    event.refresh_from_db()
    assert (event.stream, event.event_type) == ("loan:L001", "PaymentPosted")


def test_a_view_only_clerk_reads_the_log_and_cannot_change_it(viewer_client, closed_month):
    event = Event.objects.order_by("position").first()
    change = reverse("admin:ledger_event_change", args=[event.position])
    assert viewer_client.get(change).status_code == 200
    assert viewer_client.post(change, {"stream": "forged:1"}).status_code == 403
    assert viewer_client.post(reverse("admin:ledger_event_delete", args=[event.position]),
                              {"post": "yes"}).status_code == 403


def test_the_periodic_task_schedules_stay_in_the_admin(admin_client):
    assert PeriodicTask in admin.site._registry
    assert admin_client.get(reverse("admin:django_celery_beat_periodictask_changelist")).status_code == 200
