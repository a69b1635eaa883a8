"""The trusts' facts, as typed, versioned events (ledger.events): what the trust, pool and register streams hold.

Each class names what happened and carries what was decided then: the deal's
terms and classes as formed, the loans sold at their cut-off balances and
prices, the face issued to each holder, a transfer, a removal with the
proceeds its buyer paid, a holder's registration and later details. The read
models (trusts.projections: trusts, classes, holders, the pool, the register)
are folds of these and nothing else, so `rebuild_projections` reproduces them.

Streams: `trust:CODE` (TrustFormed, PoolLoansTransferred, PoolLoanRemoved,
RemovalProceedsTrued, CleanUpCallExercised), `register:CODE` (CertificatesIssued, HoldingTransferred),
`holder:CODE` (HolderRegistered, HolderDetailsChanged).

Schema history (the log is immutable: old payloads are upcast every time they are read):
- CertificatesIssued and HoldingTransferred v1 named a holding's class under the key "class",
  which no Python attribute can be called; v2 calls it "class_name".
- TrustFormed v1 had no CUSIPs; v2 records each class's `cusip` (None when the deal file gave none).
  v3 records the deal's `structure` (trusts.domain.structure_json's dict: steps, class kinds and
  features, triggers, OC, reserve, call, trustee fee); a v2 trust is the standard deal, {}.
- HolderDetailsChanged v1 named the linked login by its username ("user"); v2 records the
  login's id too ("login_id", what the link is) beside its name then ("login_name"), so a
  rebuild links the same login even after it is renamed. A v1 event has no id: the rebuild
  links the login of that name (see trusts.projections.ReferenceProjection).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, ClassVar

from ledger.events import DomainEvent, event_class, upcaster
from trusts.domain.deal_structure import DealStructure
from trusts.domain.structure_json import structure_from_json


@dataclass(frozen=True, slots=True)
class ClassTerms:
    """One class (tranche) of the deal as formed."""

    name: str
    face_cents: int
    coupon: Decimal | None  # None: net-wac, all interest left after fee and spread
    principal_rule: str
    priority: int
    denomination_cents: int
    cusip: str | None = None  # the class's CUSIP when the deal file gave one (TrustFormed v2)

    @property
    def is_net_wac(self) -> bool:
        return self.coupon is None


@event_class
@dataclass(frozen=True, slots=True)
class TrustFormed(DomainEvent):
    """A trust formed from its deal file: its terms, classes and structure (the pool and holdings follow).

    structure: the deal's structure as trusts.domain.structure_json encodes it (exact: Decimals as
    text, cents as integers; {} is the standard deal); `deal_structure` decodes it.
    """

    event_type: ClassVar[str] = "TrustFormed"
    schema_version: ClassVar[int] = 3
    code: str
    name: str
    issuer: str
    servicer: str
    trustee: str
    closing_date: date
    cutoff_date: date
    first_payment_date: date
    payment_day: int
    issuer_spread_rate: Decimal
    remittance_type: str
    purchase_price_percent: Decimal
    residual_holder: str
    overcollateralized: bool
    classes: tuple[ClassTerms, ...]
    structure: dict[str, Any] = field(default_factory=dict)

    @property
    def deal_structure(self) -> DealStructure:
        return structure_from_json(self.structure)


@upcaster(TrustFormed, from_version=1)
def _formed_cusips(payload: dict[str, Any]) -> dict[str, Any]:
    # v1 deal files had no CUSIPs: every class formed then has none.
    return {**payload, "classes": [{"cusip": None, **c} for c in payload["classes"]]}


@upcaster(TrustFormed, from_version=2)
def _formed_structure(payload: dict[str, Any]) -> dict[str, Any]:
    # Before v3 a deal file could declare no structure: every trust formed then is the standard deal.
    return {**payload, "structure": {}}


@dataclass(frozen=True, slots=True)
class TransferredLoan:
    """A loan sold into the pool: its unpaid principal on the cut-off date and the price paid for it."""

    loan_number: str
    cutoff_balance_cents: int
    price_cents: int


@event_class
@dataclass(frozen=True, slots=True)
class PoolLoansTransferred(DomainEvent):
    """The loans sold into a trust's pool, dated on its cut-off (the price's postings go with it)."""

    event_type: ClassVar[str] = "PoolLoansTransferred"
    schema_version: ClassVar[int] = 1
    loans: tuple[TransferredLoan, ...]


@event_class
@dataclass(frozen=True, slots=True)
class PoolLoanRemoved(DomainEvent):
    """A loan taken out of the pool on the event's date: who bought it, why, and the proceeds it paid."""

    event_type: ClassVar[str] = "PoolLoanRemoved"
    schema_version: ClassVar[int] = 1
    stored_keys: ClassVar[frozenset[str]] = frozenset({"loan_number"})  # a return finds the loan's removals
    loan_number: str
    kind: str  # "repurchase" (the seller) or "buyout" (the servicer)
    reason: str
    balance_cents: int  # the loan's unpaid principal on the removal date
    proceeds_principal_cents: int
    proceeds_interest_cents: int

    @property
    def proceeds_cents(self) -> int:
        return self.proceeds_principal_cents + self.proceeds_interest_cents


@event_class
@dataclass(frozen=True, slots=True)
class RemovalProceedsTrued(DomainEvent):
    """More proceeds owed by a removal's buyer after a payment it priced in was returned."""

    event_type: ClassVar[str] = "RemovalProceedsTrued"
    schema_version: ClassVar[int] = 1
    stored_keys: ClassVar[frozenset[str]] = frozenset({"removal_position"})  # a removal finds its true-ups
    loan_number: str
    kind: str
    removal_position: int
    removed_on: date
    reference: str  # the returned payment's bank reference
    returned_event_position: int
    return_position: int
    returned_on: date
    principal_cents: int
    interest_cents: int


@event_class
@dataclass(frozen=True, slots=True)
class CleanUpCallExercised(DomainEvent):
    """The deal's clean-up call exercised on `call_date` (the event's date): every loan left in the pool bought
    at par plus accrued interest, each by its own PoolLoanRemoved recorded with this event. The close of the
    period holding the call retires every class (remittance's waterfall, DealState.call_exercised)."""

    event_type: ClassVar[str] = "CleanUpCallExercised"
    schema_version: ClassVar[int] = 1
    trust: str
    call_date: date
    pool_balance_cents: int  # the remaining loans' unpaid principal on the call date
    cutoff_balance_cents: int  # the pool's balance at its cut-off (every loan ever sold into it)
    percent: Decimal  # the deal's cleanup_call_percent the balance fell below
    loans: tuple[str, ...]  # the loans bought, in loan-number order
    price_cents: int  # the principal paid: the loans' unpaid principal at par
    interest_cents: int  # the interest accrued to the call date, paid with it
    exercised_by: str  # who exercised it (the acting user's name)

    @property
    def total_cents(self) -> int:
        return self.price_cents + self.interest_cents


@dataclass(frozen=True, slots=True)
class IssuedHolding:
    """Face of one class issued to one holder at the closing."""

    holder: str
    class_name: str
    face_cents: int


@event_class
@dataclass(frozen=True, slots=True)
class CertificatesIssued(DomainEvent):
    """The bonds placed at the closing, dated on it: each holder's face of each class."""

    event_type: ClassVar[str] = "CertificatesIssued"
    schema_version: ClassVar[int] = 2
    holdings: tuple[IssuedHolding, ...]


@upcaster(CertificatesIssued, from_version=1)
def _issued_class_key(payload: dict[str, Any]) -> dict[str, Any]:
    return {**payload, "holdings": [class_named(h) for h in payload["holdings"]]}


@event_class
@dataclass(frozen=True, slots=True)
class HoldingTransferred(DomainEvent):
    """Face of a class moved from one holder to another, dated on its settlement."""

    event_type: ClassVar[str] = "HoldingTransferred"
    schema_version: ClassVar[int] = 2
    class_name: str
    from_holder: str
    to_holder: str
    face_cents: int
    trade_date: date
    settlement_date: date


@upcaster(HoldingTransferred, from_version=1)
def _transferred_class_key(payload: dict[str, Any]) -> dict[str, Any]:
    return class_named(payload)


def class_named(item: dict[str, Any]) -> dict[str, Any]:
    """A v1 payload (or item) that named a class under "class", with it under "class_name" as v2 names it:
    the one rename for every event that names a class (here and remittance.events). Without a "class"
    it is left as it is, and from_payload names what is missing."""
    renamed = {k: v for k, v in item.items() if k != "class"}
    if "class" in item:
        renamed["class_name"] = item["class"]
    return renamed


@event_class
@dataclass(frozen=True, slots=True)
class HolderRegistered(DomainEvent):
    """A bondholder entered on the register under its code (which never changes)."""

    event_type: ClassVar[str] = "HolderRegistered"
    schema_version: ClassVar[int] = 1
    code: str
    name: str


@event_class
@dataclass(frozen=True, slots=True)
class HolderDetailsChanged(DomainEvent):
    """A holder's name, contact and portal login as staff set them (the whole set, not a difference)."""

    event_type: ClassVar[str] = "HolderDetailsChanged"
    schema_version: ClassVar[int] = 2
    code: str
    name: str
    contact: str
    login_id: int | None  # the linked login (auth user id); None: unlinked, or recorded before v2
    login_name: str | None  # its username when linked


@upcaster(HolderDetailsChanged, from_version=1)
def _details_login(payload: dict[str, Any]) -> dict[str, Any]:
    # v1 kept only the username: the id the link was made to was not recorded.
    data = {k: v for k, v in payload.items() if k != "user"}
    return {**data, "login_id": None, "login_name": payload.get("user")}
