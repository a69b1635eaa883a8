"""The standing staff groups: operations may ask but not approve; approvers may approve."""
from django.contrib.auth.models import Group

from approvals.staff_groups import staff_groups_ensure


def codenames(group_name: str) -> set[str]:
    group = Group.objects.get(name=group_name)
    return {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}


def test_operations_view_everything_and_ask_but_never_approve(db):
    operations = codenames("operations")
    assert {"ledger.view_event", "ledger.view_posting", "servicing.view_loan", "remittance.view_periodresult",
            "trusts.view_trust", "django_celery_beat.view_periodictask"} <= operations
    assert {"servicing.add_loan", "servicing.change_loan", "trusts.add_holdingmovement",
            "approvals.add_approvalrequest", "django_celery_beat.change_periodictask"} <= operations
    assert "approvals.approve_request" not in operations
    assert not any(name.split(".")[1].startswith("delete_") for name in operations)
    assert not {"ledger.change_event", "ledger.add_event"} & operations


def test_approvers_may_approve_and_ensuring_again_changes_nothing(db):
    assert codenames("approvers") == {"approvals.approve_request", "approvals.view_approvalrequest"}
    before = (codenames("operations"), codenames("approvers"))
    staff_groups_ensure()
    assert (codenames("operations"), codenames("approvers")) == before
