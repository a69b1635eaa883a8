"""The borrower statements as PDF documents (ReportLab): the periodic statement, form 1098 figures and the
annual escrow account statement, from servicing.domain.borrower_statements' values (no database).

The same figures as the text, CSV and JSON renderings; money as dollars grouped by thousands. The pieces
(tables, headings, pages) are ledger.pdf_documents', shared with the trusts' statements.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from ledger.domain.money import dollars_grouped as money
from ledger.pdf_documents import pdf_document, pdf_heading, pdf_paragraph, pdf_table
from servicing.domain.borrower_statements import EscrowStatement, Form1098, PaymentBreakdown, PeriodicStatement


def periodic_statement_pdf(s: PeriodicStatement) -> bytes:
    """The mortgage statement of a billing cycle, in the order Regulation Z 1026.41(d) lists its parts."""
    story: list[Any] = [pdf_paragraph(f"Loan {s.loan_number}: {s.borrower_name}, {s.property_address}. "
                                      f"Statement date {s.statement_date:%Y-%m-%d}, cycle {s.cycle}.")]
    if s.bankruptcy_notice:
        story.append(pdf_paragraph("Our records show you are in bankruptcy: this statement is for your information "
                                   "only and is not an attempt to collect a debt."))
    story += pdf_heading("Amount due")
    if s.amount_due is None:
        story.append(pdf_paragraph("Nothing is due: the loan is closed."))
    else:
        d = s.amount_due
        story.append(pdf_table([
            ("payment due date", "amount due", "principal", "interest", "escrow", "past due", "late charge", "if paid after"),
            (f"{d.due_date:%Y-%m-%d}", money(d.total_cents), money(d.principal_cents), money(d.interest_cents),
             money(d.escrow_cents), f"{money(d.past_due_cents)} ({d.installments_past_due} installment(s))",
             money(d.late_charge_cents), f"{d.late_charge_from - timedelta(days=1):%Y-%m-%d}")]))
    story += pdf_heading("Past payments")
    story.append(pdf_table([("", "principal", "interest", "escrow", "fees", "unapplied", "total"),
                            _paid_row("this cycle", s.paid_this_cycle), _paid_row("this year", s.paid_year_to_date)]))
    story += pdf_heading("Transaction activity")
    lines = [(f"{t.on:%Y-%m-%d}", t.description, money(t.amount_cents)) for t in s.transactions]
    story.append(pdf_table([("date", "description", "amount"), *(lines or [("none", "", "")])]))
    st = s.standing
    story += pdf_heading("Your account")
    story.append(pdf_table([("outstanding principal", "deferred principal (no interest)", "interest rate %",
                             "unapplied funds"),
                            (money(st.principal_balance_cents), money(st.deferred_principal_cents),
                             s.interest_rate_percent, money(st.suspense_cents))]))
    if s.delinquency is not None:
        q = s.delinquency
        story += pdf_heading(f"Delinquency notice: you are {q.days} days late (since {q.since:%Y-%m-%d})")
        story.append(pdf_table([("cycle", "past due at its end")]
                               + [(cycle, money(cents)) for cycle, cents in q.history]))
        story += [pdf_paragraph(notice) for notice in q.notices]
    return pdf_document(f"Mortgage statement {s.cycle} - loan {s.loan_number}", story, wide=False)


def _paid_row(label: str, paid: PaymentBreakdown) -> tuple[str, ...]:
    return (label, *(money(cents) for cents in paid.parts()), money(paid.total_cents))


def form_1098_pdf(f: Form1098) -> bytes:
    """The year's mortgage interest statement figures of one loan."""
    return pdf_document(f"Form 1098 figures {f.year} - loan {f.loan_number}", [
        pdf_paragraph(f"{f.borrower_name}, {f.property_address}"),
        pdf_table([("box", "figure", "amount"),
                   ("1", "mortgage interest received from the borrower", money(f.interest_received_cents)),
                   ("2", f"outstanding principal on {f.principal_as_of:%Y-%m-%d}", money(f.principal_outstanding_cents)),
                   ("5", "mortgage insurance premiums", money(f.mortgage_insurance_cents))]),
        pdf_paragraph("Reportable ($600 of interest or more)." if f.reportable else
                      "Not reportable: less than $600 of interest.")], wide=False)


def escrow_statement_pdf(e: EscrowStatement) -> bytes:
    """The annual escrow account statement (Regulation X 1024.17(i))."""
    story: list[Any] = [pdf_table([
        ("from", "to", "balance at the start", "deposits", "disbursed", "advanced by the servicer", "balance at the end"),
        (f"{e.year_start:%Y-%m-%d}", f"{e.year_end:%Y-%m-%d}", money(e.balance_start_cents), money(e.deposits_cents),
         money(e.disbursed_cents), money(e.advanced_cents), money(e.balance_end_cents))])]
    story += pdf_heading("Disbursements")
    items = [(kind.replace("_", " "), money(cents)) for kind, cents in e.disbursements]
    story.append(pdf_table([("item", "amount"), *(items or [("none", "")])]))
    story += pdf_heading("The year's analysis")
    story.append(pdf_paragraph("No analysis was made in the year." if e.new_monthly_escrow_cents is None else
                               f"New monthly escrow {money(e.new_monthly_escrow_cents)}; shortage "
                               f"{money(e.shortage_cents)}; surplus {money(e.surplus_cents)}, of which refunded "
                               f"{money(e.surplus_refund_cents)}."))
    return pdf_document(f"Escrow account statement {e.year_start.year} - loan {e.loan_number}", story, wide=False)
