"""Analytics: cash-flow projections under prepayment and default scenarios, and the standard measures."""
