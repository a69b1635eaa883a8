"""App configuration for servicing; registers the LoanPosition and CollectionLine projections."""
from django.apps import AppConfig


class ServicingConfig(AppConfig):
    name = "servicing"
    verbose_name = "Servicing"

    def ready(self):
        from ledger.business_time import register_dated_fact_rule
        from ledger.projections import registry
        from ledger.verification import register_check
        from servicing.dated_facts import not_before_boarding
        from servicing.projections import LoanPositionProjection, load_handlers
        from servicing.projections.collection_lines import CollectionLineProjection
        from servicing.selectors import loan_positions_match_ledger
        from servicing.verification import loan_money_rederived

        load_handlers()
        registry.register(LoanPositionProjection())
        registry.register(CollectionLineProjection())
        register_check("loan balances equal their ledger accounts", loan_positions_match_ledger)
        register_dated_fact_rule("not before the loan was boarded", not_before_boarding)
        register_check("loan positions re-derived from their facts", loan_money_rederived)
