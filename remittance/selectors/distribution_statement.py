"""The monthly distribution statement to certificateholders: one selector, every figure a trustee posts.

`distribution_statement(trust, period)` builds on the remittance report (remittance.selectors.reports)
and adds, all from the close's recorded facts:
- per class: CUSIP, original face, the rate paid and its accrual dates (30/360 over the collection
  period), principal split into scheduled, prepaid and liquidated, and every amount per $1,000 of
  original face (8 decimals), credit enhancement now and at issue;
- the pool's principal by kind, realized losses (the period's, cumulative, and loan by loan);
- the collateral (loan count, balance, WAC, WAM, WALA, average balance) and the delinquency table
  (current, 30, 60, 90+, foreclosure, REO, bankruptcy: count and balance) as of the period's end: each
  loan's position folded from its log events dated by then and recorded by the close's window, never
  today's row; the balances are the close's own (remittance.selectors.period_facts.loan_facts);
- the speeds section of the report (1/3/6/12-month and life CPR, CDR, severity), reused as it is.
`holder_statement_shares(holder, period)` is an investor's share of each line of their classes, and
`holder_losses` the loss written off each of a holder's distributions (the API's /me/distributions/).
The arithmetic is remittance.domain.statement_figures'; the renderers are statement_formats and
statement_pdf. Selectors only: they read and never write.
"""
from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Sum

from remittance.domain.loan_calendar import installments_due
from remittance.domain.statement_figures import (
    LoanAtEnd, PRINCIPAL_KINDS, class_rate, collateral_summary, credit_enhancement,
    delinquency_table, holder_shares, per_thousand, percent, pool_principal_by_kind, principal_split,
)
from remittance.domain.trust_calendar import Period
from remittance.models import ClassPeriod, Distribution, PeriodResult
from remittance.selectors.period_facts import loan_facts, window_for
from remittance.selectors.reports import ReportUnavailable, investor_statement, remittance_report
from servicing.domain.delinquency_status import mba_bucket
from servicing.models import CollectionLine, Loan
from servicing.selectors import positions_as_of
from trusts.domain.deal_structure import IO
from trusts.models import SecurityClass, Trust
from trusts.selectors import holders_of_record_by_class_id, pool_members

ACCRUAL_BASIS = "30/360"
NOT_APPLICABLE = "n/a"  # an IO class's credit enhancement
# The amounts of a class line stated per $1,000 of original face, by the line's key (each `<key>_cents`).
PER_THOUSAND_KEYS = ("balance_begin", "interest_paid", "interest_shortfall", "principal_paid", "principal_scheduled",
                     "principal_prepaid", "principal_liquidated", "loss_written_off", "balance_end")
TRIGGERS_NOTE = "The deal's terms have no performance triggers (delinquency or loss tests): none to report."
POSITIONS_NOTE = ("Delinquency and status are as of the period's end: each loan's events dated by then and "
                  "recorded before the close, folded; loan terms (term, first payment date) are the boarded ones.")


def distribution_statement(trust_code: str, period: str | Period) -> dict:
    """The trust's statement to certificateholders for one closed period (see the module's docstring)."""
    report = remittance_report(trust_code, period)
    h = report["header"]
    trust = Trust.objects.get(code=h["trust"])
    month = Period.parse(h["period"])
    result = PeriodResult.objects.get(trust=trust, period=str(month))
    closed = result.period_closed
    securities = {c.name: c for c in SecurityClass.objects.filter(trust=trust)}
    by_kind = pool_principal_by_kind(closed.collected)
    loans = loans_at_end(trust, month, result.through_position)
    pool_end = closed.pool_balance_end_cents
    # An IO class's balance is a notional: it supports no class and no class supports it.
    notional = {c["class"] for c in report["classes"] if c.get("kind") == IO}
    enhancement = credit_enhancement([(c["class"], securities[c["class"]].priority, c["balance_end_cents"])
                                      for c in report["classes"] if c["class"] not in notional], pool_end)
    at_issue = credit_enhancement([(s.name, s.priority, s.original_face_cents) for s in securities.values()
                                   if s.name not in notional], closed.pool_original_cents)
    classes = [_class_line(c, securities[c["class"]], month, by_kind, enhancement, at_issue) for c in report["classes"]]
    return {
        "header": {**h, "issuer": trust.issuer, "servicer": trust.servicer, "trustee": trust.trustee,
                   "accrual_start": month.first_day, "accrual_end": month.last_day, "accrual_basis": ACCRUAL_BASIS},
        "classes": classes,
        "class_totals": _class_totals(classes),
        "pool": {**report["pool"], "principal_by_kind": {f"{k}_cents": v for k, v in by_kind.items()},
                 "principal_collected_cents": sum(by_kind.values())},
        "collections": report["collections"], "advances": report["advances"],
        "servicing_fee": report["servicing_fee"], "issuer_spread": report["issuer_spread"],
        "excess": report["excess"], "retained": report["retained"],
        "losses": _losses(trust, month, result, loans),
        "collateral": collateral_summary(loans),
        "delinquency": delinquency_table(loans),
        "triggers": _triggers(report),
        "speeds": report["speeds"],
        "holders": report["holders"], "reconciliation": report["reconciliation"],
        "notes": {"as_of": POSITIONS_NOTE},
        # A structured deal's trustee fee, over-collateralisation, reserve account, triggers and call.
        **({"deal": report["deal"]} if "deal" in report else {}),
    }


def _triggers(report: dict) -> dict:
    """The deal's trigger tests as the close ran them (reports.trigger_lines), or the note that it has none."""
    tested = report.get("deal", {}).get("triggers")
    return {"note": TRIGGERS_NOTE} if tested is None else tested


def _class_line(c: dict, security: SecurityClass, month: Period, by_kind: dict[str, int],
                enhancement: dict[str, str], at_issue: dict[str, str]) -> dict:
    split = principal_split(c["principal_paid_cents"], by_kind)
    line = {
        "class": c["class"], "cusip": security.cusip, "coupon": c["coupon"],
        **({"kind": c["kind"]} if "kind" in c else {}),
        "rate": class_rate(c["coupon"], interest_paid_cents=c["interest_paid_cents"],
                           balance_begin_cents=c["balance_begin_cents"]),
        "accrual_start": month.first_day, "accrual_end": month.last_day,
        "original_face_cents": security.original_face_cents,
        **{k: v for k, v in c.items() if k.endswith("_cents")},
        **{f"principal_{kind}_cents": cents for kind, cents in split.items()},
        "factor": c["factor"],
        "credit_enhancement": enhancement.get(c["class"], NOT_APPLICABLE),
        "credit_enhancement_at_issue": at_issue.get(c["class"], NOT_APPLICABLE),
    }
    # Flat keys ("interest_paid_per_1000"): a per-$1,000 figure is never read as a dollar amount.
    line.update({f"{key}_per_1000": per_thousand(line[f"{key}_cents"], security.original_face_cents)
                 for key in PER_THOUSAND_KEYS})
    return line


def _class_totals(classes: list[dict]) -> dict:
    keys = ("original_face", *PER_THOUSAND_KEYS)
    return {f"{key}_cents": sum(c[f"{key}_cents"] for c in classes) for key in keys}


# ------------------------------------------------------------------ the pool at the period's end


def loans_at_end(trust: Trust, month: Period, through_position: int) -> list[LoanAtEnd]:
    """Each loan in the pool at the period's end: the close's balance, and its position then, from the log."""
    window = window_for(trust, month, through_position)
    facts = [f for f in loan_facts(trust, month, window, scheduled=False) if f.balance_end_cents > 0]
    numbers = [f.loan_number for f in facts]
    positions = positions_as_of(numbers, day=month.last_day, through_position=through_position)
    terms = {loan.pk: loan for loan in Loan.objects.filter(pk__in=numbers)}
    loans = []
    for f in facts:
        position, loan = positions[f.loan_number], terms[f.loan_number]
        loans.append(LoanAtEnd(
            loan_number=f.loan_number, balance_cents=f.balance_end_cents, note_rate=position.note_rate,
            term_months=loan.term_months,
            age_months=installments_due(loan.first_payment_date, loan.term_months, through=month.last_day),
            status=position.status, bucket=mba_bucket(next_due_date=position.next_due_date, as_of=month.last_day),
            bankruptcy_chapter=position.bankruptcy_chapter))
    return loans


def _losses(trust: Trust, month: Period, result: PeriodResult, loans: list[LoanAtEnd]) -> dict:
    """The period's realized loss, the cumulative loss since the cut-off, and each loan's loss and proceeds."""
    cumulative = (PeriodResult.objects.filter(trust=trust, period__lte=str(month))
                  .aggregate(total=Sum("realized_loss_cents"))["total"] or 0)
    original = result.period_closed.pool_original_cents
    return {"period_cents": result.realized_loss_cents, "cumulative_cents": cumulative,
            "cumulative_percent_of_original": percent(cumulative, original),
            "loans": _loan_losses(trust, month, result.through_position)}


def _loan_losses(trust: Trust, month: Period, through_position: int) -> list[dict]:
    """Each pool loan with a realized loss by the period's end: its liquidation proceeds, loss and severity."""
    members = {m.loan_id: m for m in pool_members(trust, through_position=through_position)[0]}
    rows = (CollectionLine.objects.filter(loan_id__in=list(members), effective_date__lte=month.last_day,
                                          event_position__lte=through_position)
            .exclude(realized_loss_cents=0)
            .values_list("loan_id", "effective_date", "liquidation_principal_cents", "realized_loss_cents"))
    lines = []
    for number, on, proceeds, loss in sorted(rows):
        if members[number].covers(on):
            lines.append({"loan": number, "date": on, "liquidation_principal_cents": proceeds, "loss_cents": loss,
                          "severity": percent(loss, proceeds + loss)})
    return lines


# ------------------------------------------------------------------ a holder's share


def holder_statement_shares(holder_code: str, period: str | Period) -> list[dict]:
    """The holder's share of each line of each class it was paid on in the period: beginning and ending
    face, interest, principal (scheduled, prepaid, liquidated) and loss, in dollars and per $1,000 of the
    face it holds. Each share is the class's amount split among its holders of record exactly (the
    close's split), so the holders' shares and the unplaced bonds' add up to the class's figure."""
    month = Period.parse(str(period))
    rows = list(Distribution.objects.filter(holder__code=holder_code, period=str(month))
                .select_related("security_class__trust", "holder")
                .order_by("security_class__trust__code", "security_class__priority", "security_class__name"))
    if not rows:
        raise ReportUnavailable(f"holder {holder_code} has no distributions for {month}")
    class_rows = {r.security_class_id: r for r in ClassPeriod.objects.filter(
        security_class__in=[r.security_class_id for r in rows], period=str(month))}
    held = holders_of_record_by_class_id(class_ids=list(class_rows), record_date=rows[0].record_date)
    kinds = {r.trust_id: pool_principal_by_kind(r.period_closed.collected) for r in
             PeriodResult.objects.filter(trust__in={row.security_class.trust_id for row in rows}, period=str(month))}
    return [_holder_line(row, class_rows[row.security_class_id], held[row.security_class_id],
                         kinds[row.security_class.trust_id]) for row in rows]


def _holder_line(row, class_row: ClassPeriod, held: dict[str, int], by_kind: dict[str, int]) -> dict:
    security, code = row.security_class, row.holder.code
    original = security.original_face_cents
    begin = holder_shares(class_row.balance_begin_cents, held, original)[code]
    loss = holder_shares(class_row.loss_written_off_cents, held, original)[code]
    # Principal: what the close paid the holder, split by the class's own split by kind.
    class_split = principal_split(class_row.principal_paid_cents, by_kind)
    split = principal_split(row.principal_cents, class_split)
    line = {
        "trust": security.trust.code, "class": security.name, "cusip": security.cusip,
        "face_held_cents": row.face_held_cents, "face_begin_cents": begin,
        "interest_cents": row.interest_cents, "principal_cents": row.principal_cents,
        **{f"principal_{kind}_cents": split[kind] for kind in PRINCIPAL_KINDS},
        "loss_cents": loss, "total_cents": row.total_cents,
        "face_end_cents": begin - row.principal_cents - loss, "payment_date": row.payment_date,
    }
    if class_row.interest_accrued_cents:
        # An accrual class's interest is added to its balance: the holder's face grows by its share.
        accrued = holder_shares(class_row.interest_accrued_cents, held, original)[code]
        line.update(interest_accrued_cents=accrued, face_end_cents=line["face_end_cents"] + accrued)
    line.update({f"{key.removesuffix('_cents')}_per_1000": per_thousand(line[key], row.face_held_cents)
                 for key in list(line) if key.endswith("_cents") and key != "face_held_cents"})
    return line


def holder_losses(rows: Iterable[dict]) -> dict[int, int]:
    """The loss written off each distribution's class, the holder's share (by the row's id): rows as the
    API lists them, with `id`, `holder__code`, `security_class_id`, `period` and `record_date`.

    One query for the page's classes' losses; a class that lost something in a period reads its register
    on the record date (one query per record date, for all such classes at once).
    """
    rows = list(rows)
    pairs = {(r["security_class_id"], r["period"]) for r in rows}
    losses = {(c, p): cents for c, p, cents in ClassPeriod.objects.filter(
        security_class_id__in={c for c, _ in pairs}, period__in={p for _, p in pairs},
        loss_written_off_cents__gt=0).values_list("security_class_id", "period", "loss_written_off_cents")}
    lost = [r for r in rows if (r["security_class_id"], r["period"]) in losses]
    if not lost:
        return {r["id"]: 0 for r in rows}
    faces = dict(SecurityClass.objects.filter(pk__in={c for c, _ in losses}).values_list("pk", "original_face_cents"))
    registers = {day: holders_of_record_by_class_id(
        class_ids=sorted({r["security_class_id"] for r in lost if r["record_date"] == day}), record_date=day)
        for day in {r["record_date"] for r in lost}}
    shares = {r["id"]: 0 for r in rows}
    for r in lost:
        held = registers[r["record_date"]][r["security_class_id"]]
        shares[r["id"]] = holder_shares(losses[(r["security_class_id"], r["period"])], held,
                                        faces[r["security_class_id"]]).get(r["holder__code"], 0)
    return shares


def investor_statement_with_shares(holder_code: str, period: str | Period) -> dict:
    """The investor's statement (remittance.selectors.reports.investor_statement) with its `shares`:
    the holder's part of every line of each class it was paid on (holder_statement_shares)."""
    return {**investor_statement(holder_code, period), "shares": holder_statement_shares(holder_code, period)}
