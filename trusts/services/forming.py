"""Forming a trust from a deal file: the trust, its pool, its classes and holdings, at once.

Every inconsistency (in the file, or against the loans on the books) is
reported together and nothing is formed. The trust, pool, register and
holder streams are appended in one transaction; the trust's and holders'
rows are the projections of those events (trusts.projections), not written here.
"""
from __future__ import annotations

import json
from collections import Counter
from datetime import date
from decimal import Decimal

from django.db import transaction

from ledger.actors import Actor
from ledger.domain.money import dollars_grouped, round_half_up
from ledger.domain.records import PostingLine, StreamAppend
from ledger.selectors import account_balances
from ledger.services import append_batch
from servicing.domain import accounts as loan_accounts
from servicing.models import CLOSED_STATUSES, Loan, LoanPosition
from trusts.domain.deal_file import CODE, DealSpec, parse_deal
from trusts.domain.deal_structure import IO, POOL
from trusts.domain.structure_json import structure_to_json
from trusts.errors import DealRejected
from trusts.events import (
    CertificatesIssued, ClassTerms, HolderRegistered, IssuedHolding, PoolLoansTransferred, TransferredLoan, TrustFormed,
)
from trusts.models import Holder, PoolLoan, Trust, holder_stream, register_stream, trust_stream


def deal_file_form(*, raw: bytes, acting_user: Actor) -> Trust:
    """Form the trust a deal file describes; raises DealRejected listing every problem."""
    try:
        data = json.loads(raw.decode("utf-8-sig"), object_pairs_hook=_object_once)
    except ValueError as error:  # bad UTF-8, bad JSON, or an integer of more than 4,300 digits
        raise DealRejected([f"the deal file is not valid UTF-8 JSON: {str(error)[:200]}"]) from None
    except RecursionError:
        raise DealRejected(["the deal file is not valid UTF-8 JSON: nested too deeply"]) from None
    spec, problems = parse_deal(data)
    if problems:
        # The books' problems with the loans too, so a loan that is not boarded is named in the same
        # report as a bad face or date, not only after those are fixed.
        raise DealRejected(problems + _loan_problems(_listed_loans(data))[0])
    return trust_form(spec=spec, acting_user=acting_user)


def _object_once(pairs: list[tuple]) -> dict:
    """A JSON object whose keys each appear once: json.loads would silently keep the last of two."""
    twice = sorted(k for k, n in Counter(k for k, _ in pairs).items() if n > 1)
    if twice:
        raise ValueError(f"key {twice[0][:40]!r} appears twice in one object")
    return dict(pairs)


@transaction.atomic
def trust_form(*, spec: DealSpec, acting_user: Actor) -> Trust:
    """Record the deal's events; the trust, its classes, new holders, pool and register are their projections."""
    cutoff = _check_against_books(spec)
    append_batch(appends=[*_register_holders(spec), *_deal_events(spec, cutoff)], acting_user=acting_user)
    return Trust.objects.get(code=spec.code)


def _check_against_books(spec: DealSpec) -> dict[str, int]:
    """Each loan's cut-off balance; DealRejected if any loan or face does not fit."""
    problems = []
    if Trust.objects.filter(code=spec.code).exists():
        problems.append(f"code: trust {spec.code} already exists")
    loan_problems, eligible = _loan_problems(spec.loans, cutoff_date=spec.cutoff_date)
    problems += loan_problems
    cutoff = _cutoff_balances(eligible, spec.cutoff_date)
    if len(cutoff) == len(spec.loans):
        problems += _face_problems(spec, sum(cutoff.values()))
    if problems:
        raise DealRejected(problems)
    return cutoff


def _face_problems(spec: DealSpec, pool: int) -> list[str]:
    """The classes' faces against the pool's cut-off balance.

    An IO class's face is its initial notional, not principal: it is left out of the sum, and must
    equal its notional classes' faces (or the pool's balance, for a "pool" notional). A deal that
    declares an overcollateralization target (so `overcollateralized`) must issue less than the pool.
    """
    problems = []
    kinds = {c.name: spec.structure.features_of(c.name).kind for c in spec.classes}
    faces = sum(c.face_cents for c in spec.classes if kinds[c.name] != IO)
    if faces != pool and not (spec.overcollateralized and faces < pool):
        problems.append(
            f"classes: faces add up to {dollars_grouped(faces)} but the pool's cut-off balance is {dollars_grouped(pool)}"
            + ("" if spec.overcollateralized else " (declare \"overcollateralized\": true if that is intended)")
        )
    elif spec.structure.overcollateralization is not None and faces >= pool:
        problems.append(f"classes: faces add up to {dollars_grouped(faces)}, the pool's cut-off balance: an "
                        "overcollateralization target needs the classes' faces below the pool's balance")
    face_of = {c.name: c.face_cents for c in spec.classes}
    for c in spec.classes:
        notional = spec.structure.features_of(c.name).notional_of
        if kinds[c.name] != IO or not notional:
            continue
        initial = pool if notional == (POOL,) else sum(face_of.get(n, 0) for n in notional)
        if c.face_cents != initial:
            of = "the pool's cut-off balance" if notional == (POOL,) else f"the faces of {', '.join(notional)}"
            problems.append(f"class {c.name}: an IO's face is its initial notional, {dollars_grouped(initial)} "
                            f"({of}), not {dollars_grouped(c.face_cents)}")
    return problems


def _listed_loans(data) -> list[str]:
    """The well-formed loan numbers of a deal file that did not parse, in file order, each once.

    (A malformed one is named by parse_deal; a NUL in it would fail in the database, not here.)
    """
    loans = data.get("loans") if isinstance(data, dict) else None
    if not isinstance(loans, list):
        return []
    return list(dict.fromkeys(n for n in loans if isinstance(n, str) and CODE.match(n)))


def _loan_problems(numbers, *, cutoff_date: date | None = None) -> tuple[list[str], list[Loan]]:
    """Each listed loan that cannot go into a new pool (on `cutoff_date`, when known), and the loans that can."""
    problems: list[str] = []
    loans = {loan.loan_number: loan for loan in Loan.objects.filter(loan_number__in=numbers)}
    statuses = dict(LoanPosition.objects.filter(loan_id__in=numbers).values_list("loan_id", "status"))
    pooled = dict(PoolLoan.objects.filter(loan_id__in=numbers, removed_on__isnull=True)
                  .values_list("loan_id", "trust__code"))
    last_removed = _last_removals(numbers)
    eligible = []
    for number in numbers:
        if number not in loans:
            problems.append(f"loans: loan {number} is not boarded")
        elif number in pooled:
            problems.append(f"loans: loan {number} is already in trust {pooled[number]}")
        elif cutoff_date is not None and number in last_removed and cutoff_date < last_removed[number][1]:
            code, removed_on = last_removed[number]
            problems.append(
                f"loans: loan {number} was in trust {code} until its removal on {removed_on.isoformat()}; "
                f"this trust's cut-off {cutoff_date.isoformat()} must be on or after that date "
                "(money up to the removal belongs to the other trust)")
        elif statuses.get(number) in CLOSED_STATUSES:
            problems.append(f"loans: loan {number} is {statuses[number].replace('_', ' ')}")
        else:
            eligible.append(loans[number])
    return problems, eligible


def _last_removals(numbers: list[str]) -> dict[str, tuple[str, date]]:
    """Each loan's latest removal from a pool: (the trust's code, the removal date).

    A loan belongs to a trust through its removal date and to the next trust from the day
    after that trust's cut-off (PoolLoan's interval convention), so the new cut-off may not
    be earlier than the removal: one borrower payment would be remitted by both trusts.
    """
    last: dict[str, tuple[str, date]] = {}
    for number, code, removed_on in (PoolLoan.objects.filter(loan_id__in=numbers, removed_on__isnull=False)
                                     .order_by("removed_on").values_list("loan_id", "trust__code", "removed_on")):
        last[number] = (code, removed_on)
    return last


def _cutoff_balances(loans: list[Loan], cutoff_date: date) -> dict[str, int]:
    """Each loan's unpaid principal on the cut-off date, in the deal's order.

    A loan boarded after the cut-off comes in at its boarded balance (the ledger
    has nothing of it on that date). The others' principal accounts are summed
    in one grouped query, so forming costs the same queries for 20 loans or 2,000.
    """
    on_books = [loan.loan_number for loan in loans if loan.boarded_on <= cutoff_date]
    ledger = account_balances([loan_accounts.principal(n) for n in on_books], as_of=cutoff_date) if on_books else {}
    return {
        loan.loan_number: loan.boarded_balance_cents if loan.boarded_on > cutoff_date
        else ledger[loan_accounts.principal(loan.loan_number)]
        for loan in loans
    }


def _register_holders(spec: DealSpec) -> list[StreamAppend]:
    """HolderRegistered for each holder the register does not know yet (each stream expected new)."""
    known = set(Holder.objects.filter(code__in=[h.holder_code for h in spec.holders]).values_list("code", flat=True))
    new = {h.holder_code: h.holder_name for h in spec.holders if h.holder_code not in known}
    return [
        StreamAppend(holder_stream(code), 0,
                     (HolderRegistered(code=code, name=name).new_event(effective_date=spec.closing_date),))
        for code, name in new.items()
    ]


def _deal_events(spec: DealSpec, cutoff: dict[str, int]) -> list[StreamAppend]:
    prices = {n: round_half_up(Decimal(b) * spec.purchase_price_percent / 100) for n, b in cutoff.items()}
    pool, paid = sum(cutoff.values()), sum(prices.values())
    postings = [PostingLine(f"trust:{spec.code}:pool", pool), PostingLine(f"trust:{spec.code}:seller_payable", -paid)]
    if pool != paid:
        postings.append(PostingLine(f"trust:{spec.code}:purchase_discount", paid - pool))
    formed = _formed(spec).new_event(effective_date=spec.closing_date)
    transferred = PoolLoansTransferred(loans=tuple(
        TransferredLoan(loan_number=n, cutoff_balance_cents=cutoff[n], price_cents=prices[n]) for n in spec.loans
    )).new_event(effective_date=spec.cutoff_date, postings=postings)
    issued = CertificatesIssued(holdings=tuple(
        IssuedHolding(holder=h.holder_code, class_name=h.class_name, face_cents=h.face_cents) for h in spec.holders
    )).new_event(effective_date=spec.closing_date)
    return [StreamAppend(trust_stream(spec.code), 0, (formed, transferred)),
            StreamAppend(register_stream(spec.code), 0, (issued,))]


def _formed(spec: DealSpec) -> TrustFormed:
    return TrustFormed(
        code=spec.code, name=spec.name, issuer=spec.issuer, servicer=spec.servicer, trustee=spec.trustee,
        closing_date=spec.closing_date, cutoff_date=spec.cutoff_date, first_payment_date=spec.first_payment_date,
        payment_day=spec.payment_day, issuer_spread_rate=spec.issuer_spread_rate,
        remittance_type=spec.remittance_type, purchase_price_percent=spec.purchase_price_percent,
        residual_holder=spec.residual_holder, overcollateralized=spec.overcollateralized,
        structure=structure_to_json(spec.structure),
        classes=tuple(
            ClassTerms(name=c.name, face_cents=c.face_cents, coupon=c.coupon, principal_rule=c.principal_rule,
                       priority=c.priority, denomination_cents=c.denomination_cents, cusip=c.cusip)
            for c in spec.classes
        ),
    )
