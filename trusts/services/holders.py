"""Keeping a bondholder's reference details (name, contact, portal login) up to date.

A holder's code never changes: the register's events name holders by it.
Every change of the other details is recorded as HolderDetailsChanged on the
holder's stream, and the row is that event's projection: the log explains it,
and a rebuild reproduces it, the login link included (the event records the login's id).
"""
from __future__ import annotations

from django.db import transaction

from ledger import business_time
from ledger.actors import Actor
from ledger.services import append
from servicing.domain.csv_files import free_text_problem
from trusts.errors import TrustError
from trusts.events import HolderDetailsChanged
from trusts.models import Holder, holder_stream


@transaction.atomic
def holder_details_change(*, code: str, name: str, contact: str = "", user=None, acting_user: Actor) -> Holder:
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
    login_id, login_name = (user.pk, user.get_username()) if user else (None, None)
    if (name, contact, login_id) == (holder.name, holder.contact, holder.user_id):
        return holder
    changed = HolderDetailsChanged(code=code, name=name, contact=contact, login_id=login_id, login_name=login_name)
    # The holder's row follows from the event (trusts.projections), in this transaction.
    append(stream=holder_stream(code), expected_version=None, acting_user=acting_user,
           events=[changed.new_event(effective_date=business_time.today())])
    holder.refresh_from_db()
    return holder
