"""Keeping a bondholder's reference details (name, contact, portal login) up to date.

A holder's code never changes: the register's events name holders by it.
Every change of the other details is recorded as HolderDetailsChanged on the
holder's stream, so the log still explains the row.
"""
from __future__ import annotations

from django.db import transaction

from ledger import business_time
from ledger.records import NewEvent
from ledger.services import append
from servicing.csv_files import free_text_problem
from trusts.errors import TrustError
from trusts.models import Holder


@transaction.atomic
def holder_details_change(*, code: str, name: str, contact: str = "", user=None, acting_user=None) -> Holder:
    """Set a holder's name, contact and linked login; records nothing when nothing changed."""
    holder = Holder.objects.select_for_update().filter(code=code).first()
    if holder is None:
        raise TrustError(f"unknown holder {code}")
    name, contact = (name or "").strip(), (contact or "").strip()
    if not name:
        raise TrustError(f"holder {code} needs a name")
    for problem in (free_text_problem("name", name), contact and free_text_problem("contact", contact, limit=300)):
        if problem:
            raise TrustError(f"holder {code}: {problem}")
    details = {"name": name, "contact": contact, "user": user.get_username() if user else None}
    if details == {"name": holder.name, "contact": holder.contact,
                   "user": holder.user.get_username() if holder.user else None}:
        return holder
    append(stream=f"holder:{code}", expected_version=None, acting_user=acting_user,
           events=[NewEvent("HolderDetailsChanged", {"code": code, **details}, business_time.today())])
    holder.name, holder.contact, holder.user = name, contact, user
    holder.save(update_fields=["name", "contact", "user"])
    return holder
