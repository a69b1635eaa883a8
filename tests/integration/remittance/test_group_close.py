"""A group of trusts closed at once: each trust answered on its own, exactly once, all or nothing.

The month-end closes trusts in groups (remittance.services.closing.trusts_close): one
read of the log, one batch of appends. A trust that cannot close (unknown, out of order,
already closed) is answered and the others close; a trust whose figures cannot be computed
is left out of the batch, its row opened again with the reason; a batch that fails as a
whole is closed again one trust at a time, so the fault stays with the trust that has it.
"""
from datetime import date

import pytest

from ledger.models import Event
from ledger.verification import verify
from remittance.domain.trust_calendar import Period
from remittance.models import PeriodResult, PeriodStatus, TrustPeriod
from remittance.services import closing as closing_service
from remittance.services.closing import trusts_close
from tests.actors import TESTS
from tests.integration.remittance.months import SEED_LOANS, pay, seed_trust
from tests.integration.remittance.test_group_facts import SCHEDULED, SCHEDULED_LOANS, _scheduled_trust
from tests.integration.trusts.deals import TRUST

pytestmark = pytest.mark.django_db
FEBRUARY = Period(2026, 2)
MARCH_1 = date(2026, 3, 1)


def _february_paid():
    seed_trust()
    _scheduled_trust()
    for n in [*SEED_LOANS, *SCHEDULED_LOANS]:
        pay(n, FEBRUARY)


def test_a_group_answers_each_trust_and_a_second_close_pays_nothing(loans):
    _february_paid()
    outcome = trusts_close(trust_codes=[TRUST, "NOPE", SCHEDULED], period=FEBRUARY, as_of=MARCH_1,
                           acting_user=TESTS)
    assert [o.trust_code for o in outcome.closed] == [TRUST, SCHEDULED]
    assert outcome.refused == {"NOPE": "no trust 'NOPE'"}
    events = Event.objects.count()
    again = trusts_close(trust_codes=[TRUST, SCHEDULED], period=FEBRUARY, as_of=MARCH_1, acting_user=TESTS)
    assert again.closed == [] and again.already_closed == [TRUST, SCHEDULED]
    assert Event.objects.count() == events
    assert list(TrustPeriod.objects.values_list("attempts", flat=True)) == [1, 1]
    april = trusts_close(trust_codes=[TRUST], period=Period(2026, 4), as_of=date(2026, 5, 1), acting_user=TESTS)
    assert april.refused == {TRUST: f"{TRUST} 2026-04 cannot close before 2026-03 is closed"}
    assert PeriodResult.objects.count() == 2
    assert verify().ok


def test_a_person_alone_cannot_close_a_group(loans, django_user_model):
    _february_paid()
    clerk = django_user_model.objects.create_user("clerk", is_staff=True)
    with pytest.raises(closing_service.CloseNotApproved):
        trusts_close(trust_codes=[TRUST, SCHEDULED], period=FEBRUARY, as_of=MARCH_1, acting_user=clerk)
    assert not TrustPeriod.objects.exists() and not PeriodResult.objects.exists()


def test_a_trust_whose_figures_fail_is_left_out_and_the_others_close(loans, monkeypatch):
    _february_paid()
    real = closing_service.close_figures

    def failing_for_the_scheduled_trust(**kwargs):
        if kwargs["scheduled"]:
            raise ValueError("a fact the close cannot take")
        return real(**kwargs)

    monkeypatch.setattr(closing_service, "close_figures", failing_for_the_scheduled_trust)
    outcome = trusts_close(trust_codes=[TRUST, SCHEDULED], period=FEBRUARY, as_of=MARCH_1, acting_user=TESTS)
    assert [o.trust_code for o in outcome.closed] == [TRUST]
    assert list(outcome.failed) == [SCHEDULED]
    row = TrustPeriod.objects.get(trust__code=SCHEDULED)
    assert row.status == PeriodStatus.OPEN and row.last_error == "ValueError: a fact the close cannot take"
    assert not Event.objects.filter(stream=f"remittance:{SCHEDULED}").exists()
    monkeypatch.undo()
    again = trusts_close(trust_codes=[TRUST, SCHEDULED], period=FEBRUARY, as_of=MARCH_1, acting_user=TESTS)
    assert [o.trust_code for o in again.closed] == [SCHEDULED] and again.already_closed == [TRUST]
    assert TrustPeriod.objects.get(trust__code=SCHEDULED).attempts == 2
    assert verify().ok


def test_a_batch_that_fails_as_a_whole_is_closed_again_one_trust_at_a_time(loans, monkeypatch):
    _february_paid()
    real = closing_service.append_batch
    batches = []

    def refusing_the_scheduled_trust(*, appends, acting_user):
        batches.append(sorted({a.stream for a in appends if a.stream.startswith("remittance:")}))
        if any(a.stream == f"remittance:{SCHEDULED}" for a in appends):
            raise RuntimeError("the log refused the batch")
        return real(appends=appends, acting_user=acting_user)

    monkeypatch.setattr(closing_service, "append_batch", refusing_the_scheduled_trust)
    outcome = trusts_close(trust_codes=[TRUST, SCHEDULED], period=FEBRUARY, as_of=MARCH_1, acting_user=TESTS)
    assert batches == [[f"remittance:{SCHEDULED}", f"remittance:{TRUST}"], [f"remittance:{TRUST}"],
                       [f"remittance:{SCHEDULED}"]]
    assert [o.trust_code for o in outcome.closed] == [TRUST] and list(outcome.failed) == [SCHEDULED]
    assert TrustPeriod.objects.get(trust__code=SCHEDULED).status == PeriodStatus.OPEN
    assert PeriodResult.objects.get().trust.code == TRUST
    assert verify().ok
