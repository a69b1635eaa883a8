"""Deleting a login linked to a bondholder is refused, in the admin and in code, until the link is removed
through the holder service (which records HolderDetailsChanged): the link never changes silently."""
import pytest
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import ProtectedError

from ledger.models import Event
from tests.actors import TESTS
from trusts.models import Holder
from trusts.services.holders import holder_details_change

pytestmark = pytest.mark.django_db


@pytest.fixture
def linked(closed_month):
    """Login "ivy" linked to holder INV-01 through the holder service; "sam" linked to nobody."""
    ivy = User.objects.create_user("ivy", password="ivy-password-1")
    holder = Holder.objects.get(code="INV-01")
    holder_details_change(code="INV-01", name=holder.name, contact=holder.contact, user=ivy, acting_user=TESTS)
    User.objects.create_user("sam", password="sam-password-1")
    return ivy


def changes(code: str = "INV-01") -> int:
    return Event.objects.filter(stream=f"holder:{code}", event_type="HolderDetailsChanged").count()


def test_deleting_a_holders_login_in_code_is_refused_and_changes_nothing(linked):
    # (Each in its own atomic block: the refusal rolls back the delete's transaction, here a savepoint.)
    with pytest.raises(ProtectedError, match="linked to holder INV-01"), transaction.atomic():
        linked.delete()
    with pytest.raises(ProtectedError), transaction.atomic():
        User.objects.filter(username__in=["ivy", "sam"]).delete()
    assert Holder.objects.get(code="INV-01").user == linked
    assert set(User.objects.values_list("username", flat=True)) >= {"ivy", "sam"}
    User.objects.get(username="sam").delete()  # a login linked to nobody goes as before


def test_the_admin_delete_page_names_the_holder_and_deletes_nothing(admin_client, linked):
    url = f"/admin/auth/user/{linked.pk}/delete/"
    page = admin_client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Cannot delete user" in html and "INV-01" in html and "remove the link on the holder" in html
    assert "Yes, I’m sure" not in html
    posted = admin_client.post(url, {"post": "yes"})
    assert posted.status_code == 200 and "INV-01" in posted.content.decode()
    assert User.objects.filter(pk=linked.pk).exists() and Holder.objects.get(code="INV-01").user == linked


def test_the_admin_bulk_delete_is_refused_too(admin_client, linked):
    sam = User.objects.get(username="sam")
    answer = admin_client.post("/admin/auth/user/", {"action": "delete_selected", "_selected_action": [linked.pk, sam.pk],
                                                     "post": "yes"})
    assert answer.status_code == 200 and "INV-01" in answer.content.decode()
    assert User.objects.filter(pk__in=[linked.pk, sam.pk]).count() == 2


def test_after_unlinking_through_the_holder_service_the_login_can_go(admin_client, linked):
    before = changes()
    holder = Holder.objects.get(code="INV-01")
    holder_details_change(code="INV-01", name=holder.name, contact=holder.contact, user=None, acting_user=TESTS)
    assert changes() == before + 1  # the unlinking is on the holder's stream
    assert "Yes, I’m sure" in admin_client.get(f"/admin/auth/user/{linked.pk}/delete/").content.decode()
    answer = admin_client.post(f"/admin/auth/user/{linked.pk}/delete/", {"post": "yes"})
    assert answer.status_code == 302
    assert not User.objects.filter(pk=linked.pk).exists() and Holder.objects.get(code="INV-01").user is None
