"""The month the fault tests break: the seed's trust, its payment files, its close, and what the ledger says after.

Used in-process by tests/reliability/test_worker_kills.py and, through
`python -m tests.reliability.scenario <command>`, by the restart tests, whose
database is a private PostgreSQL the pytest process has no Django connection to:

    seed                      board L001-L012 and form XYZ-2026-1 (ten holders of 100 bonds)
    payment-file PATH N       write a February payment file: N payments of 849.55 to each of L001-L010
    facts [PATH]              print, as JSON, what the ledger holds (payments of the file at PATH, if given)
"""
from __future__ import annotations

import json
import os
import sys
from collections import Counter
from pathlib import Path

TRUST = "XYZ-2026-1"
PERIOD = "2026-02"
AS_OF = "2026-03-02"
HOLDERS = [f"INV-{i:02d}" for i in range(1, 11)]
PAYING_LOANS = [f"L{i:03d}" for i in range(1, 11)]
INSTALLMENT = "849.55"
HOLDER_SHARE_CENTS = 49_955  # each holder's February distribution when every loan paid one installment


def seed() -> None:
    from tests.integration.servicing.tapes import board, seed_rows
    from tests.integration.trusts.deals import form, seed_deal

    board(*seed_rows(12))
    form(seed_deal(first_payment_date="2026-03-25"))


def payment_file_text(payments_per_loan: int = 1) -> str:
    """February's payments, in bank order: each loan's k-th payment on day 1 + 9k (a repeat starts a new chunk)."""
    lines = ["loan_number,received_on,amount,reference"]
    for k in range(payments_per_loan):
        lines += [f"{loan},2026-02-{1 + 9 * k:02d},{INSTALLMENT},BANK-{PERIOD}-{loan}-{k}" for loan in PAYING_LOANS]
    return "\n".join(lines) + "\n"


def file_references(text: str) -> list[str]:
    return [line.split(",")[3] for line in text.splitlines()[1:] if line]


def facts(file_text: str | None = None) -> dict:
    """What the ledger holds now: payments, the close, each holder's distributions, and verify()."""
    from ledger.models import Event
    from ledger.verification import verify
    from remittance.models import Distribution, PeriodResult, TrustPeriod

    payments = Counter(Event.objects.filter(event_type="PaymentPosted").values_list("idempotency_key", flat=True))
    paid = Counter(s.removeprefix("holder:") for s in
                   Event.objects.filter(event_type="DistributionPaid").values_list("stream", flat=True))
    amounts = {}
    for d in Distribution.objects.select_related("holder"):
        amounts[d.holder.code] = amounts.get(d.holder.code, 0) + d.interest_cents + d.principal_cents
    result = PeriodResult.objects.filter(period=PERIOD).first()
    period = TrustPeriod.objects.filter(period=PERIOD).first()
    report = verify()
    out = {
        "payments_posted": sum(payments.values()),
        "references_posted_twice": sorted(k for k, n in payments.items() if n > 1),
        "periods_closed": Event.objects.filter(event_type="PeriodClosed").count(),
        "period_status": period.status if period else None,
        "distributions_paid": dict(sorted(paid.items())),
        "distribution_cents": dict(sorted(amounts.items())),
        "paid_to_holders_cents": result.paid_to_holders_cents if result else None,
        "verify_ok": report.ok,
        "verify_problems": [str(p) for p in report.problems][:5],
    }
    if file_text is not None:
        wanted = {f"payment:{r}" for r in file_references(file_text)}
        out["file_references"] = len(wanted)
        out["file_references_missing"] = sorted(wanted - set(payments))
        out["payments_not_in_file"] = sorted(set(payments) - wanted)
    return out


def paid_exactly_once_problems(found: dict) -> list[str]:
    """Why `found` (from facts()) is not 'the February close ran once and paid every holder once', or []."""
    problems = []
    if found["periods_closed"] != 1:
        problems.append(f"{found['periods_closed']} PeriodClosed events")
    if found["period_status"] != "closed":
        problems.append(f"period status {found['period_status']}")
    if found["distributions_paid"] != {h: 1 for h in HOLDERS}:
        problems.append(f"DistributionPaid per holder {found['distributions_paid']}")
    if found["distribution_cents"] != {h: HOLDER_SHARE_CENTS for h in HOLDERS}:
        problems.append(f"distribution amounts {found['distribution_cents']}")
    if found["paid_to_holders_cents"] != HOLDER_SHARE_CENTS * len(HOLDERS):
        problems.append(f"paid to holders {found['paid_to_holders_cents']}")
    if not found["verify_ok"]:
        problems.append(f"verify: {found['verify_problems']}")
    return problems


def main(argv: list[str]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    command, *rest = argv
    if command == "seed":
        seed()
    elif command == "payment-file":
        Path(rest[0]).write_text(payment_file_text(int(rest[1])), encoding="utf-8")
    elif command == "facts":
        text = Path(rest[0]).read_text(encoding="utf-8") if rest else None
        print(json.dumps(facts(text)))
    else:
        raise SystemExit(f"unknown command {command!r}; see the module docstring")


if __name__ == "__main__":
    main(sys.argv[1:])
