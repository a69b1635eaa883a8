"""Properties of projected deals run by their own structure (analytics.domain.structure.run_structure):
every month conserves cents, a PAC inside its band is paid exactly its schedule, and a failed
cumulative-loss trigger turns principal sequential from that month on."""
from decimal import Decimal

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from analytics.domain.cents import paid_months, to_cents
from analytics.domain.collateral import Repline, project_repline
from analytics.domain.deal_projection import Deal, project
from analytics.domain.defaults import NO_DEFAULTS, default_scenario
from analytics.domain.prepayment import constant
from analytics.domain.structure import Structure, run_structure
from analytics.domain.textbook_deals import PAC_BAND, PAC_FACE_CENTS, textbook_deal
from remittance.domain.waterfall import ClassState
from trusts.domain.deal_structure import (
    ACCRUAL, INTEREST, RESERVE_DEPOSIT, RESERVE_DRAW, STANDARD_STEP_NAMES, TRUSTEE_FEE, ClassFeatures,
    DealStructure, LossLimit, ReserveAccount, Triggers,
)

PROPERTY = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def replines(draw):
    count = draw(st.integers(1, 3))
    lines = []
    for k in range(count):
        term = draw(st.sampled_from([120, 180, 240, 360]))
        gross = Decimal(draw(st.integers(300, 900))) / 100
        lines.append(Repline(name=f"R{k}", balance=draw(st.integers(10_000_00, 5_000_000_00)) / 100, gross_wac=gross,
                             net_wac=gross - Decimal(draw(st.integers(0, 75))) / 100, term=term,
                             age=draw(st.integers(0, term - 24))))
    return tuple(lines)


@st.composite
def class_states(draw, pool_cents: int, net_floor: Decimal):
    count = draw(st.integers(1, 4))
    shares = draw(st.lists(st.integers(1, 100), min_size=count, max_size=count))
    total_share = sum(shares) + draw(st.integers(0, 20))  # the classes may stand below the pool
    states, priority, rule = [], 0, "sequential"
    for k, share in enumerate(shares):
        joins = rule == "pro-rata" and draw(st.booleans())  # a pro-rata group shares one priority
        rule = "pro-rata" if joins else draw(st.sampled_from(["sequential", "pro-rata"]))
        if not joins:
            priority += 1  # a sequential class has a priority of its own
        coupon = draw(st.one_of(st.none(), st.integers(0, int(net_floor * 100)).map(lambda c: Decimal(c) / 100)))
        states.append(ClassState(name=f"C{k}", balance_cents=pool_cents * share // total_share, coupon=coupon,
                                 principal_rule=rule, priority=priority))
    return tuple(states)


def _structure(draw, states) -> DealStructure:
    """A trustee fee, a reserve account, an accrual class and cumulative-loss triggers, each or none."""
    steps = list(STANDARD_STEP_NAMES)
    trustee_fee = Decimal(draw(st.integers(0, 20))) / 1000
    if trustee_fee:
        steps.insert(0, TRUSTEE_FEE)
    reserve = None
    if draw(st.booleans()):
        target = draw(st.integers(0, 50_000_00))
        reserve = ReserveAccount(target_cents=target, initial_deposit_cents=draw(st.integers(0, target)))
        steps.insert(steps.index(INTEREST) + 1, RESERVE_DRAW)
        steps.insert(len(steps) - 1, RESERVE_DEPOSIT)
    features = {}
    last = states[-1]
    if last.coupon and last.priority > 1 and last.principal_rule == "sequential" and draw(st.booleans()):
        features[last.name] = ClassFeatures(kind=ACCRUAL)
    triggers = None
    if draw(st.booleans()):
        triggers = Triggers(stepdown_period=draw(st.integers(1, 60)), sticky=draw(st.booleans()),
                            cumulative_loss=(LossLimit(from_period=1, percent=Decimal(draw(st.integers(0, 50))) / 10),))
    return DealStructure(steps=tuple(steps), trustee_fee_rate=trustee_fee, reserve=reserve, features=features,
                         triggers=triggers)


@PROPERTY
@given(data=st.data())
def test_every_projected_month_conserves_cents(data):
    lines = data.draw(replines())
    pool = sum(to_cents(r.balance) for r in lines)
    states = data.draw(class_states(pool, min(r.net_wac for r in lines)))
    defaults = data.draw(st.one_of(st.just(NO_DEFAULTS), st.builds(
        lambda cdr, severity, lag, advance: default_scenario("cdr", [cdr], severity=severity, lag=lag, advance=advance),
        st.integers(0, 30), st.integers(0, 100), st.integers(0, 12), st.booleans())))
    prepayment = constant("psa", data.draw(st.integers(0, 1000)))
    paid = {r.name: paid_months(project_repline(r, prepayment, defaults), balance_cents=to_cents(r.balance),
                                gross_wac=r.gross_wac, name=r.name) for r in lines}
    structure = Structure(classes=states, original_faces={s.name: max(s.balance_cents, 1) for s in states},
                          fee_rates={r.name: r.gross_wac - r.net_wac for r in lines},
                          note_rates={r.name: r.gross_wac for r in lines},
                          issuer_spread_rate=Decimal(data.draw(st.integers(0, 50))) / 100,
                          deal=_structure(data.draw, states))
    # close_figures checks each month's waterfall and reconciliation and raises on a lost cent.
    months = run_structure(paid, structure)
    assert len(months) == max(len(p) for p in paid.values())
    for m in months:
        w = m.waterfall
        assert w.interest_collected_cents == m.total("interest_cents")
        assert w.principal_collected_cents == m.total("principal_cents")
        assert w.realized_loss_cents == m.total("loss_cents")
    for s in states:
        results = [m.waterfall.for_class(s.name) for m in months]
        for before, after in zip(results, results[1:]):
            assert after.balance_begin_cents == before.balance_end_cents
        assert (s.balance_cents + sum(r.interest_accrued_cents for r in results)
                - sum(r.principal_paid_cents + r.loss_written_off_cents for r in results)
                == results[-1].balance_end_cents)


@PROPERTY
@given(speed=st.integers(int(PAC_BAND[0]) * 10, int(PAC_BAND[1]) * 10).map(lambda s: s / 10))
def test_a_pac_inside_its_band_is_paid_exactly_its_schedule_while_the_support_lasts(speed):
    deal = textbook_deal("FJF-04")
    schedule = deal.structure.deal.features_of("P").schedule
    months = project(deal, constant("psa", speed)).months
    scheduled_before = PAC_FACE_CENTS
    for k, m in enumerate(months, start=1):
        pac, support = m.waterfall.for_class("P"), m.waterfall.for_class("S")
        if support.balance_begin_cents == 0:
            break
        scheduled = schedule[k - 1] if k <= len(schedule) else 0
        assert pac.principal_paid_cents == scheduled_before - scheduled, f"period {k} at {speed} PSA"
        assert pac.balance_end_cents == scheduled
        scheduled_before = scheduled


def _trigger_deal(stepdown: int, limit: Decimal) -> Deal:
    repline = Repline(name="R", balance=100_000_000.0, gross_wac=Decimal("7"), net_wac=Decimal("6.5"),
                      term=360, age=0)
    classes = (ClassState(name="A", balance_cents=80_000_000_00, coupon=Decimal("5"), principal_rule="sequential",
                          priority=1),
               ClassState(name="B", balance_cents=20_000_000_00, coupon=Decimal("6"), principal_rule="sequential",
                          priority=2))
    triggers = Triggers(stepdown_period=stepdown, cumulative_loss=(LossLimit(from_period=1, percent=limit),))
    return Deal(replines=(repline,), structure=Structure(
        classes=classes, original_faces={"A": 80_000_000_00, "B": 20_000_000_00}, fee_rates={"R": Decimal("0.5")},
        note_rates={"R": Decimal("7")}, deal=DealStructure(triggers=triggers),
    ))


@PROPERTY
@given(stepdown=st.integers(6, 48), limit=st.integers(5, 40).map(lambda p: Decimal(p) / 10),
       cdr=st.integers(2, 10), lag=st.integers(0, 12), psa=st.integers(0, 300))
def test_a_failed_cumulative_loss_trigger_makes_principal_sequential_from_that_month(stepdown, limit, cdr, lag, psa):
    defaults = default_scenario("cdr", [cdr], severity=50, lag=lag, advance=False)
    months = project(_trigger_deal(stepdown, limit), constant("psa", psa), defaults).months
    statuses = [m.waterfall.triggers for m in months]
    failing = [k for k, t in enumerate(statuses) if t.failed]
    assume(failing)
    first = failing[0]
    for k, m in enumerate(months):
        a, b = m.waterfall.for_class("A"), m.waterfall.for_class("B")
        # The cumulative loss is measured against the cut-off balance, month after month.
        assert statuses[k].cumulative_loss_percent == (
            Decimal(sum(x.total("loss_cents") for x in months[:k + 1])) * 100 / 10_000_000_000)
        sequential = k + 1 < stepdown or k >= first
        assert statuses[k].in_effect == (k >= first)  # sticky: failed once, failed for good
        if sequential and a.balance_end_cents > 0:
            assert b.principal_paid_cents == 0, f"period {k + 1}"
        if not sequential and a.balance_begin_cents and b.balance_begin_cents and m.total("principal_cents"):
            assert b.principal_paid_cents > 0, f"period {k + 1}: pro rata after the step-down"
