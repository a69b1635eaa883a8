"""Transfers of holdings between holders: never more than the seller holds."""
from __future__ import annotations

from datetime import date

from ledger.actors import Actor
from ledger.models import Stream
from ledger.domain.money import CentsError, dollars_grouped, require_cents
from ledger.domain.records import RecordedEvent
from ledger.services import append
from servicing.services.loan_events import with_retries
from trusts.errors import TrustError
from trusts.events import HoldingTransferred
from trusts.models import Holder, SecurityClass, register_stream
from trusts.selectors import holding_low

# Every transfer of a trust appends to its one register stream, so N racing transfers can each lose
# up to N - 1 rounds; the default five attempts refused sound transfers as "busy" with eight racing.
MAX_ATTEMPTS = 20


def holding_transfer(*, trust_code: str, class_name: str, from_holder: str, to_holder: str, face_cents: int,
                     trade_date: date, settlement_date: date, acting_user: Actor) -> RecordedEvent:
    """Move face from one holder to another, effective on the settlement date."""
    security_class = _class(trust_code, class_name)
    _check(security_class, from_holder, to_holder, face_cents, trade_date, settlement_date)
    event = HoldingTransferred(
        class_name=class_name, from_holder=from_holder, to_holder=to_holder, face_cents=face_cents,
        trade_date=trade_date, settlement_date=settlement_date,
    ).new_event(effective_date=settlement_date)
    stream = register_stream(trust_code)

    def attempt():
        version = Stream.objects.filter(name=stream).values_list("version", flat=True).first() or 0
        # Checked at the version appended at: a concurrent transfer makes this one retry from a fresh read.
        _check_holding(security_class, from_holder, face_cents, settlement_date)
        return append(stream=stream, expected_version=version, events=[event], acting_user=acting_user)[0]

    return with_retries(attempt, attempts=MAX_ATTEMPTS,
                        busy=lambda: TrustError(f"the register of {trust_code} is busy; try the transfer again"))


def _class(trust_code: str, class_name: str) -> SecurityClass:
    try:
        return SecurityClass.objects.select_related("trust").get(trust__code=trust_code, name=class_name)
    except SecurityClass.DoesNotExist:
        raise TrustError(f"trust {trust_code} has no class {class_name}") from None


def _check(security_class, from_holder, to_holder, face_cents, trade_date, settlement_date) -> None:
    if from_holder == to_holder:
        raise TrustError("a transfer needs two different holders")
    missing = {from_holder, to_holder} - set(Holder.objects.filter(code__in=[from_holder, to_holder])
                                             .values_list("code", flat=True))
    if missing:
        raise TrustError(f"unknown holder {', '.join(sorted(missing))}")
    try:
        whole = require_cents(face_cents, "face", zero=False) % security_class.denomination_cents == 0
    except CentsError:
        whole = False
    if not whole:
        denomination = dollars_grouped(security_class.denomination_cents)
        raise TrustError(f"face must be a positive multiple of the {denomination} denomination")
    if settlement_date < trade_date:
        raise TrustError("settlement cannot come before the trade")


def _check_holding(security_class, from_holder, face_cents, settlement_date) -> None:
    # The seller must hold the face on the settlement date and on every later day already on
    # the register: a sale settling later that needs the same bonds would otherwise be overdrawn.
    held, lowest = holding_low(security_class=security_class, holder_code=from_holder, from_date=settlement_date)
    if face_cents <= lowest:
        return
    if lowest == held:
        raise TrustError(f"holder {from_holder} holds {dollars_grouped(held)} of class {security_class.name}, "
                         f"less than the {dollars_grouped(face_cents)} to transfer")
    raise TrustError(f"holder {from_holder} holds {dollars_grouped(held)} of class {security_class.name} on "
                     f"{settlement_date.isoformat()}, but transfers settling later leave {dollars_grouped(lowest)}, "
                     f"less than the {dollars_grouped(face_cents)} to transfer")
