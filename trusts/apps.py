"""App configuration for trusts: its event classes, the reference, pool and register projections, the
cut-off rule for loan facts, the cut-off balance check, the holder-login guard, the removal true-up
on a payment's return and the deal's rule on modifying a pooled loan."""
from django.apps import AppConfig
from django.conf import settings
from django.db.models.signals import pre_delete


class TrustsConfig(AppConfig):
    name = "trusts"
    verbose_name = "Trusts"

    def ready(self):
        from ledger.business_time import register_dated_fact_rule
        from ledger.projections import registry
        from ledger.verification import register_check
        from servicing.return_hooks import register_return_hook
        from trusts.dated_rules import RULE_READS, before_current_cutoff, before_current_cutoff_many
        from trusts import events  # noqa: F401  (registers the trusts' event classes)
        from trusts.projections import PoolProjection, ReferenceProjection, RegisterProjection
        from servicing.services.loss_mitigation import register_pool_rule
        from trusts.services.pool import pooled_loan_change_problem, removal_proceeds_true_up
        from trusts.signals import refuse_deleting_a_holders_login
        from trusts.verification import cleanup_calls_hold, cutoff_balances_hold

        # The reference rows first: the pool and the register name them (and are emptied before them).
        registry.register(ReferenceProjection())
        registry.register(PoolProjection())
        registry.register(RegisterProjection())
        register_check("pool cut-off balances still equal the ledger at the cut-off", cutoff_balances_hold)
        register_check("each clean-up call priced by the removals recorded with it", cleanup_calls_hold)
        register_dated_fact_rule("money on or before the loan's trust's cut-off is the seller's",
                                 before_current_cutoff, many=before_current_cutoff_many, reads=RULE_READS)
        # A payment returned after its loan was repurchased: the buyer owes the trust the difference.
        register_return_hook("trusts.removal_proceeds_true_up", removal_proceeds_true_up)
        # What a deal lets the servicer change on a pooled loan (loss mitigation): else buy it out first.
        register_pool_rule("trusts.pooled_loan_change", pooled_loan_change_problem)
        # A login linked to a holder is not deleted (which would unlink the holder unrecorded).
        pre_delete.connect(refuse_deleting_a_holders_login, sender=settings.AUTH_USER_MODEL,
                           dispatch_uid="trusts.refuse_deleting_a_holders_login")
