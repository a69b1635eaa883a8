"""App configuration for servicing; registers its events and its projections (loans, positions, collection lines)."""
from django.apps import AppConfig


class ServicingConfig(AppConfig):
    name = "servicing"
    verbose_name = "Servicing"

    def ready(self):
        import servicing.events  # noqa: F401  (registers the loan-stream event classes)
        from ledger.business_time import register_dated_fact_rule
        from ledger.projections import register_hot_account, registry
        from ledger.verification import register_check
        from servicing.dated_rules import RULE_READS, not_before_boarding, not_before_boarding_many
        from servicing.domain import accounts
        from servicing.projections import LoanPositionProjection, load_handlers
        from servicing.projections.collection_lines import CollectionLineProjection
        from servicing.projections.loans import LoanReferenceProjection
        from servicing.projections.terms import IndexValueProjection
        from servicing.selectors import loan_positions_match_ledger
        from servicing.verification import loan_money_rederived

        load_handlers()
        # Every payment moves the custodial cash, every boarded loan the boarding clearing account:
        # their balances are kept in slots, so concurrent writers do not queue on one row.
        register_hot_account(accounts.CUSTODIAL_CASH)
        register_hot_account(accounts.BOARDING_CLEARING)
        # The reference rows first: a replay writes each loan before the position that points at it.
        registry.register(LoanReferenceProjection())
        registry.register(LoanPositionProjection())
        registry.register(CollectionLineProjection())
        registry.register(IndexValueProjection())
        register_check("loan balances equal their ledger accounts", loan_positions_match_ledger)
        register_dated_fact_rule("not before the loan was boarded", not_before_boarding, many=not_before_boarding_many,
                                 reads=RULE_READS)
        register_check("loan positions re-derived from their facts", loan_money_rederived)
