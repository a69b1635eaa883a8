"""Where a loan stands in its life on the trust calendar: moved to remittance.loan_calendar (the realized
speeds of a closed period, which the remittance report shows, need it); the names stay importable here."""
from remittance.loan_calendar import (  # noqa: F401
    LoanTiming,
    installments_due,
    month_index,
    scheduled_balance_cents,
    timing_at,
)
