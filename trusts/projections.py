"""Projections of the trusts' streams: trusts, classes and holders; the pool; the register's lines.

Every trusts table is a fold of trusts.events, written here in the append's
transaction and nowhere else, so `rebuild_projections` empties and reproduces
all of them.

Ids. Other tables point at trusts, classes and holders by id (the close's
periods, approval requests, the close's read models), and some of those are
not rebuilt. So a reference row's id is deterministic, taken from the log:
- a trust's id is the log position of its TrustFormed event;
- a class's id is its trust's id times CLASS_ID_BASE plus its place in the deal (1, 2, ...);
- a holder's id is the log position of its HolderRegistered event.
A rebuild gives every row the id it had, and the rows pointing at it stay
right. Emptying the reference tables for a rebuild deletes them in SQL,
without Django's PROTECT check: the database's foreign keys (deferred to the
commit) then see the same ids back before the rebuild commits.

A holder's login (Holder.user) is linked by HolderDetailsChanged, which
records the login's id (logins are not read models: their ids are stable,
and deleting a linked login is refused, trusts.signals). An event recorded
before that (schema v1) names the login only by its username; the rebuild
links the login that has that name now. A login that no longer exists is not
linked (as the row's on_delete=SET_NULL left it).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from django.contrib.auth import get_user_model
from django.db import connection

from ledger.events import decode
from ledger.projections import Projection
from ledger.domain.records import RecordedEvent
from trusts import investor_reads
from trusts.events import (
    CertificatesIssued, HolderDetailsChanged, HolderRegistered, HoldingTransferred, PoolLoanRemoved,
    PoolLoansTransferred, TrustFormed,
)
from trusts.models import Holder, HoldingMovement, PoolLoan, SecurityClass, Trust

# A deal's classes get ids trust id * CLASS_ID_BASE + 1, + 2, ...: the deal file allows fewer (deal_file.MAX_CLASSES).
CLASS_ID_BASE = 1000


def class_id(trust_id: int, place: int) -> int:
    """The id of the deal's `place`-th class (1-based) of the trust with this id."""
    return trust_id * CLASS_ID_BASE + place


def _code(event: RecordedEvent) -> str:
    return event.stream.split(":", 1)[1]


class ReferenceProjection(Projection):
    """Trusts with their classes, and holders: the reference rows the other tables name."""

    name = "trusts.reference"
    event_types = frozenset({TrustFormed.event_type, HolderRegistered.event_type, HolderDetailsChanged.event_type})
    models = (SecurityClass, Trust, Holder)
    unstable_fields = frozenset()  # the ids are deterministic, so a replay must reproduce them too

    def apply(self, events: Sequence[RecordedEvent]) -> None:
        # A deal registers its new holders together: they are inserted in one statement, in log order
        # with what comes after them (a details change of one of them).
        registered: list[Holder] = []
        for event in events:
            fact = decode(event)
            if isinstance(fact, HolderRegistered):
                registered.append(Holder(pk=event.position, code=fact.code, name=fact.name))
                continue
            Holder.objects.bulk_create(registered, batch_size=2000)
            registered = []
            if isinstance(fact, TrustFormed):
                _trust_formed(event.position, fact)
            elif isinstance(fact, HolderDetailsChanged):
                Holder.objects.filter(code=fact.code).update(name=fact.name, contact=fact.contact,
                                                             user=_login(fact))
        Holder.objects.bulk_create(registered, batch_size=2000)

    def clear(self) -> None:
        # Not through the ORM's delete: periods and approval requests PROTECT their trust, and keep pointing
        # at its id, which the replay gives back (the foreign keys are checked at the commit).
        with connection.cursor() as cursor:
            for model in self.models:
                cursor.execute(f"DELETE FROM {connection.ops.quote_name(model._meta.db_table)}")


def _trust_formed(position: int, fact: TrustFormed) -> None:
    trust = Trust.objects.create(
        pk=position, code=fact.code, name=fact.name, issuer=fact.issuer, servicer=fact.servicer,
        trustee=fact.trustee, closing_date=fact.closing_date, cutoff_date=fact.cutoff_date,
        first_payment_date=fact.first_payment_date, payment_day=fact.payment_day,
        issuer_spread_rate=fact.issuer_spread_rate, remittance_type=fact.remittance_type,
        purchase_price_percent=fact.purchase_price_percent, residual_holder=fact.residual_holder,
        overcollateralized=fact.overcollateralized, structure=fact.structure,
    )
    structure = fact.deal_structure
    SecurityClass.objects.bulk_create([
        SecurityClass(pk=class_id(trust.pk, place), trust=trust, name=c.name, original_face_cents=c.face_cents,
                      coupon=c.coupon, principal_rule=c.principal_rule, priority=c.priority,
                      denomination_cents=c.denomination_cents, cusip=c.cusip or "",
                      kind=structure.features_of(c.name).kind)
        for place, c in enumerate(fact.classes, start=1)
    ])


def _login(fact: HolderDetailsChanged):
    """The login the event links (None: unlinked, or a login that no longer exists)."""
    users = get_user_model().objects
    if fact.login_id is not None:
        return users.filter(pk=fact.login_id).first()
    if fact.login_name:
        return users.filter(**{get_user_model().USERNAME_FIELD: fact.login_name}).first()
    return None


class PoolProjection(Projection):
    name = "trusts.pool"
    event_types = frozenset({PoolLoansTransferred.event_type, PoolLoanRemoved.event_type})
    models = (PoolLoan,)

    def apply(self, events: Sequence[RecordedEvent]) -> None:
        trusts = dict(Trust.objects.filter(code__in={_code(e) for e in events}).values_list("code", "id"))
        for event in events:
            trust_id = trusts[_code(event)]
            fact = decode(event)
            if isinstance(fact, PoolLoansTransferred):
                PoolLoan.objects.bulk_create([
                    PoolLoan(trust_id=trust_id, loan_id=loan.loan_number, price_cents=loan.price_cents,
                             cutoff_balance_cents=loan.cutoff_balance_cents, transferred_on=event.effective_date)
                    for loan in fact.loans
                ])
            else:
                PoolLoan.objects.filter(trust_id=trust_id, loan_id=fact.loan_number, removed_on__isnull=True).update(
                    removed_on=event.effective_date, removal_reason=fact.reason)


class RegisterProjection(Projection):
    name = "trusts.register"
    event_types = frozenset({CertificatesIssued.event_type, HoldingTransferred.event_type})
    models = (HoldingMovement,)

    def apply(self, events: Sequence[RecordedEvent]) -> None:
        codes = {_code(e) for e in events}
        classes = {(code, name): pk for code, name, pk in
                   SecurityClass.objects.filter(trust__code__in=codes).values_list("trust__code", "name", "pk")}
        lines = [(event, _code(event), line) for event in events for line in _lines(event)]
        # Only the holders these events name: the register may hold many thousands.
        holders = dict(Holder.objects.filter(code__in={line.holder for _, _, line in lines})
                       .values_list("code", "pk"))
        rows = [
            HoldingMovement(
                security_class_id=classes[(code, line.class_name)], holder_id=holders[line.holder],
                face_cents=line.face_cents, trade_date=line.trade_date,
                settlement_date=line.settlement_date, event_position=event.position,
            )
            for event, code, line in lines
        ]
        HoldingMovement.objects.bulk_create(rows, batch_size=2000)
        investor_reads.changed()  # holdings changed: investors' cached answers are stale once this commits

    def clear(self) -> None:
        super().clear()
        investor_reads.changed()


@dataclass(frozen=True, slots=True)
class _Line:
    class_name: str
    holder: str
    face_cents: int
    trade_date: date
    settlement_date: date


def _lines(event: RecordedEvent) -> list[_Line]:
    """The register's lines an event writes: one per issued holding, two (out and in) per transfer."""
    fact = decode(event)
    if isinstance(fact, CertificatesIssued):
        day = event.effective_date
        return [_Line(h.class_name, h.holder, h.face_cents, day, day) for h in fact.holdings]
    return [
        _Line(fact.class_name, fact.from_holder, -fact.face_cents, fact.trade_date, fact.settlement_date),
        _Line(fact.class_name, fact.to_holder, fact.face_cents, fact.trade_date, fact.settlement_date),
    ]
