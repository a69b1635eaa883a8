"""The textbook's CMO deals (Fabozzi's FJF series), built from our own parts to test the projection against (pure).

Fabozzi and Jones (eds.), Handbook of Fixed Income Securities, the chapter on CMOs, and Fabozzi's
CMO examples: the collateral is a $400,000,000 pass-through at 7.5% with a WAC of 8.125% and a WAM
of 357 months, so the loans are three months seasoned (the PSA ramp's first projected month is
its month 4) and the servicing spread is 0.625%. Every class pays 7.5%.

- FJF-01, sequential: A $194.5M, B $36M, C $96.5M, D $73M.
- FJF-02, the same with the last class an accrual class Z: its interest, while a class ahead of
  it has a balance, is added to its balance and paid as principal to the classes ahead.
- FJF-04, PAC and support: P's schedule is the collateral's principal at the slower of 90 and 300
  PSA each month (`pac_schedule`), cut at the book's face for P, $243.8M; the support S is the
  rest, $156.2M.

`BOOK_WAL_165` holds the book's average lives at 165 PSA (years), `BOOK_FJF_01_WAL` and `BOOK_PAC_WAL` its
tables across speeds (as recalled from its exhibits), the figures the tests and the `project_deal`
command compare with; they are the book's, never our results. Our code reproduces the PAC table to
the book's two decimals. The sequential tables stand a constant 0.0137-0.0140 years below ours at
every speed and class: average lives measured from a settlement five days into the first month
(5/360 = 0.0139 years), with the same cash flows to the dollar (README, "the textbook deals").
"""
from __future__ import annotations

from decimal import Decimal

from analytics.domain.collateral import Repline
from analytics.domain.deal_projection import Deal
from analytics.domain.pac_schedule import pac_schedule
from analytics.domain.structure import Structure
from remittance.domain.waterfall import ClassState
from trusts.domain.deal_structure import (
    ACCRUAL, PAC, SUPPORT, ClassFeatures, ClassOutline, DealStructure, structure_problems,
)

COLLATERAL = "FJF"
BALANCE_CENTS = 400_000_000_00
GROSS_WAC, NET_WAC, COUPON = Decimal("8.125"), Decimal("7.5"), Decimal("7.5")
TERM, AGE = 360, 3  # WAM 357: three months seasoned
PAC_BAND = (Decimal(90), Decimal(300))
PAC_FACE_CENTS = 243_800_000_00
BOOK_SPEED = Decimal(165)

# The book's average lives (years) at 165 PSA; "collateral" is the pass-through.
BOOK_WAL_165: dict[str, dict[str, Decimal]] = {
    "FJF-01": {"collateral": Decimal("8.76"), "A": Decimal("3.48"), "B": Decimal("7.49"), "C": Decimal("11.19"),
               "D": Decimal("20.27")},
    "FJF-02": {"collateral": Decimal("8.76"), "A": Decimal("2.90"), "B": Decimal("5.86"), "C": Decimal("7.87"),
               "Z": Decimal("16.74")},
    "FJF-04": {"collateral": Decimal("8.76"), "P": Decimal("7.26")},
}
# Rows of the book's exhibit of the pass-through's monthly cash flow at 165 PSA, whole dollars (month 357's
# mortgage payment is left out: as recalled it is not its balance plus a month's interest at the WAC).
BOOK_COLLATERAL_165: dict[int, dict[str, int]] = {
    1: {"balance_begin": 400_000_000, "payment": 2_975_868, "interest_net": 2_500_000,
        "scheduled_principal": 267_535, "prepayment": 442_389},
    2: {"balance_begin": 399_290_077, "payment": 2_972_575, "interest_net": 2_495_563,
        "scheduled_principal": 269_048, "prepayment": 552_847},
    100: {"balance_begin": 170_142_350, "payment": 1_396_958, "interest_net": 1_063_390,
          "scheduled_principal": 244_953, "prepayment": 1_469_591},
    357: {"balance_begin": 148_802, "interest_net": 930, "scheduled_principal": 148_802, "prepayment": 0},
}
# FJF-01 across speeds: PSA -> (collateral, A, B, C, D) average lives in years.
BOOK_FJF_01_WAL: dict[int, tuple[Decimal, ...]] = {speed: tuple(Decimal(v) for v in row.split()) for speed, row in {
    50: "15.11 7.48 15.98 21.02 27.24", 100: "11.66 4.90 10.86 15.78 24.58", 165: "8.76 3.48 7.49 11.19 20.27",
    200: "7.68 3.05 6.42 9.60 18.11", 300: "5.63 2.32 4.64 6.81 13.36", 400: "4.44 1.94 3.70 5.31 10.34",
    500: "3.68 1.69 3.12 4.38 8.35", 600: "3.16 1.51 2.74 3.75 6.96", 700: "2.78 1.38 2.47 3.30 5.95",
}.items()}
# FJF-04's PAC P across speeds (years): 7.26 from 90 to 300 PSA, its band.
BOOK_PAC_WAL: dict[int, Decimal] = {speed: Decimal(v) for speed, v in {
    0: "15.97", 50: "9.44", 90: "7.26", 100: "7.26", 165: "7.26", 200: "7.26", 250: "7.26", 300: "7.26",
    400: "5.92", 450: "5.38", 500: "4.93", 700: "3.70",
}.items()}
# The offset at which the book's sequential tables are reproduced (days after the first day of the first month).
BOOK_SEQUENTIAL_SETTLEMENT_DAYS = 5
SEQUENTIAL_FACES = (("A", 194_500_000_00), ("B", 36_000_000_00), ("C", 96_500_000_00))
TEXTBOOK_CODES: tuple[str, ...] = ("FJF-01", "FJF-02", "FJF-04")


def collateral() -> Repline:
    """The pass-through's loans as one repline."""
    return Repline(name=COLLATERAL, balance=BALANCE_CENTS / 100, gross_wac=GROSS_WAC, net_wac=NET_WAC,
                   term=TERM, age=AGE)


def textbook_deal(code: str) -> Deal:
    """The deal called `code` (one of TEXTBOOK_CODES)."""
    if code == "FJF-01":
        return _deal([*SEQUENTIAL_FACES, ("D", 73_000_000_00)], {})
    if code == "FJF-02":
        return _deal([*SEQUENTIAL_FACES, ("Z", 73_000_000_00)], {"Z": ClassFeatures(kind=ACCRUAL)})
    if code == "FJF-04":
        schedule = pac_schedule((collateral(),), PAC_BAND, face_cents=PAC_FACE_CENTS)
        features = {"P": ClassFeatures(kind=PAC, schedule=schedule.balances, band=PAC_BAND),
                    "S": ClassFeatures(kind=SUPPORT)}
        return _deal([("P", PAC_FACE_CENTS), ("S", BALANCE_CENTS - PAC_FACE_CENTS)], features)
    raise ValueError(f"no textbook deal {code!r}: one of {', '.join(TEXTBOOK_CODES)}")


def _deal(faces: list[tuple[str, int]], features: dict[str, ClassFeatures]) -> Deal:
    structure = DealStructure(features=features)
    outlines = [ClassOutline(name=n, face_cents=f, coupon=COUPON, priority=k) for k, (n, f) in enumerate(faces, 1)]
    problems = structure_problems(structure, outlines)
    if problems:
        raise ValueError("; ".join(problems))
    classes = tuple(ClassState(name=n, balance_cents=f, coupon=COUPON, principal_rule="sequential", priority=k)
                    for k, (n, f) in enumerate(faces, 1))
    return Deal(replines=(collateral(),), structure=Structure(
        classes=classes, original_faces=dict(faces), fee_rates={COLLATERAL: GROSS_WAC - NET_WAC},
        note_rates={COLLATERAL: GROSS_WAC}, deal=structure, cutoff_balance_cents=BALANCE_CENTS,
    ))
