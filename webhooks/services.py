"""The webhooks' writers: subscriptions made and ended, deliveries owed after a close, each attempt, replays.

- `subscription_create`: an investor's (for the holder their login is linked
  to) or an operations login's; the URL checked (webhooks.targets), the
  secret made here and returned once.
- `deliveries_for_closes`: told by remittance once a close commits
  (remittance.close_announcements), one Delivery per subscription and fact it
  is owed, each enqueued once its row commits. Who is owed what: an
  operations subscription every fact of the kinds it asked for; an investor's
  only its holder's (its distributions and statements, and the closes of the
  trusts it was paid in): never another holder's figures. Both only while the
  login still is what it was (an investor still linked to the holder, staff
  still in the operations group, the login active), and only facts recorded
  after the subscription was made.
- `delivery_attempt`: one POST (webhooks.sending, outside any transaction),
  then the attempt recorded and the next one scheduled with backoff, or the
  delivery marked delivered or failed after the last attempt allowed.
- `delivery_replay`: a delivered or failed delivery sent again, as a new series.
"""
from __future__ import annotations

import json
import logging
import secrets
import time
from collections.abc import Sequence
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from ledger.actors import is_person, require_actor
from ledger.domain.records import RecordedEvent
from ledger.models import LogPosition
from remittance.events import DistributionPaid, PeriodClosed
from trusts.models import Holder
from webhooks.domain import payloads
from webhooks.domain.backoff import retry_delay
from webhooks.domain.signing import signature
from webhooks.errors import ReplayRefused, SubscriptionRefused
from webhooks.models import RESPONSE_EXCERPT_CHARS, Delivery, DeliveryAttempt, DeliveryStatus, Subscription
from webhooks.sending import post
from webhooks.targets import target_of

log = logging.getLogger(__name__)

# The group whose logins are operations staff: api.access.OPERATIONS_GROUP (the API's role) and
# approvals.staff_groups.OPERATIONS name the same group; webhooks sits beside approvals, below the API.
OPERATIONS_GROUP = "operations"
SUBSCRIPTIONS_PER_LOGIN = 20  # active ones: a bound on the deliveries one login can make the workers send


# --- Subscriptions ----------------------------------------------------------------------------------------


def subscription_create(*, url: str, kinds: Sequence[str], acting_user, holder_code: str | None = None,
                        description: str = "") -> tuple[Subscription, str]:
    """A subscription of `acting_user` (for their holder, or as operations staff); it and its secret, shown once.

    holder_code given: an investor's, and the login must be the one linked to that holder. None: an
    operations subscription, and the login must be in the operations group. Refused with
    SubscriptionRefused or TargetRefused, nothing written.
    """
    require_actor(acting_user)
    if not is_person(acting_user):
        raise SubscriptionRefused("a subscription belongs to a login; the system makes none")
    target_of(url)
    chosen = _kinds(kinds)
    if holder_code is not None and not Holder.objects.filter(code=holder_code, user=acting_user).exists():
        raise SubscriptionRefused(f"{acting_user.get_username()} is not the login of holder {holder_code!r}")
    if holder_code is None and not _in_operations(acting_user):
        raise SubscriptionRefused(f"{acting_user.get_username()} is not operations staff")
    with transaction.atomic():
        active = Subscription.objects.select_for_update().filter(owner=acting_user, active=True)
        if len(active) >= SUBSCRIPTIONS_PER_LOGIN:
            raise SubscriptionRefused(f"a login may have at most {SUBSCRIPTIONS_PER_LOGIN} active subscriptions")
        secret = "whsec_" + secrets.token_urlsafe(32)
        subscription = Subscription.objects.create(
            owner=acting_user, holder_code=holder_code or "", url=url, kinds=chosen, secret=secret,
            description=description, since_position=_log_head())
    return subscription, secret


def subscription_deactivate(*, subscription: Subscription, acting_user) -> Subscription:
    """Send it nothing more; its deliveries stay readable, and any still pending stop at their next attempt."""
    require_actor(acting_user)
    if subscription.active:
        Subscription.objects.filter(pk=subscription.pk).update(active=False, deactivated_at=timezone.now())
        subscription.refresh_from_db()
    return subscription


def _kinds(kinds: Sequence[str]) -> list[str]:
    if isinstance(kinds, str) or not kinds:
        raise SubscriptionRefused(f"name one or more event kinds: {', '.join(payloads.KINDS)}")
    unknown = [k for k in kinds if k not in payloads.KINDS]
    if unknown:
        raise SubscriptionRefused(f"unknown event kind(s) {', '.join(map(str, unknown))}; "
                                  f"the kinds are {', '.join(payloads.KINDS)}")
    return [k for k in payloads.KINDS if k in kinds]  # each once, in one order


def _log_head() -> int:
    return LogPosition.objects.values_list("last_position", flat=True).first() or 0


def _in_operations(user) -> bool:
    return user.groups.filter(name=OPERATIONS_GROUP).exists()


def entitled(subscriptions: Sequence[Subscription]) -> set[int]:
    """The ids of those whose login still is what it subscribed as (active; the holder's login, or staff)."""
    holders = {s.holder_code for s in subscriptions if s.holder_code}
    linked = set(Holder.objects.filter(code__in=holders, user__isnull=False).values_list("code", "user_id"))
    staff = set(Subscription.objects.filter(pk__in=[s.pk for s in subscriptions if s.for_operations],
                                            owner__groups__name=OPERATIONS_GROUP).values_list("pk", flat=True))
    return {s.pk for s in subscriptions if s.owner.is_active
            and ((s.holder_code, s.owner_id) in linked if s.holder_code else s.pk in staff)}


# --- Deliveries owed after a close --------------------------------------------------------------------------


def deliveries_for_closes(events: Sequence[RecordedEvent]) -> list[Delivery]:
    """The deliveries these committed close events owe (each made once, however often announced), enqueued."""
    subscriptions = list(Subscription.objects.filter(active=True).select_related("owner"))
    if not subscriptions:
        return []  # the usual month-end: one query, nothing decoded
    messages = _messages(events)
    allowed = entitled(subscriptions)
    wanted: dict[tuple[int, int, str], Delivery] = {}
    for kind, position, holder, trust_holders, body in messages:
        for s in subscriptions:
            if s.pk not in allowed or kind not in s.kinds or position <= s.since_position:
                continue
            if s.holder_code and s.holder_code != holder and s.holder_code not in trust_holders:
                continue  # another investor's fact: never sent
            wanted[(s.pk, position, kind)] = Delivery(subscription=s, kind=kind, event_position=position, body=body)
    if not wanted:
        return []
    with transaction.atomic():
        existing = set(Delivery.objects.filter(subscription_id__in={k[0] for k in wanted},
                                               event_position__in={k[1] for k in wanted})
                       .values_list("subscription_id", "event_position", "kind"))
        Delivery.objects.bulk_create([d for key, d in wanted.items() if key not in existing], ignore_conflicts=True)
        new = set(wanted) - existing
        made = [d for d in Delivery.objects.filter(subscription_id__in={k[0] for k in new},
                                                   event_position__in={k[1] for k in new}, series=1)
                if (d.subscription_id, d.event_position, d.kind) in new]
        for delivery in made:
            _enqueue(delivery.pk, delivery.series, 1)
    return made


def _messages(events: Sequence[RecordedEvent]) -> list[tuple[str, int, str | None, frozenset[str], str]]:
    """(kind, position, the holder it is about or None, the holders paid in that close, body) of each fact."""
    paid = [(e, DistributionPaid.from_payload(e.payload), e.stream.split(":", 1)[1])
            for e in events if e.event_type == DistributionPaid.event_type]
    messages = []
    for e in events:
        if e.event_type == PeriodClosed.event_type:
            closed = PeriodClosed.from_payload(e.payload)
            holders = frozenset(h for _, fact, h in paid if (fact.trust, fact.period) == (closed.trust, closed.period))
            messages.append((payloads.PERIOD_CLOSED, e.position, None, holders,
                             _body(payloads.PERIOD_CLOSED, e, payloads.period_closed(closed))))
    statements: set[tuple[str, str, str]] = set()
    for e, fact, holder in sorted(paid, key=lambda p: p[0].position):
        messages.append((payloads.DISTRIBUTION_PAID, e.position, holder, frozenset(),
                         _body(payloads.DISTRIBUTION_PAID, e, payloads.distribution_paid(fact, holder=holder))))
        if (holder, fact.trust, fact.period) not in statements:  # one per holder and trust close: its first payment
            statements.add((holder, fact.trust, fact.period))
            messages.append((payloads.STATEMENT_READY, e.position, holder, frozenset(),
                             _body(payloads.STATEMENT_READY, e, payloads.statement_ready(fact, holder=holder))))
    return messages


def _body(kind: str, e: RecordedEvent, data: dict) -> str:
    return json.dumps(payloads.envelope(kind, position=e.position, recorded_at=e.recorded_at, data=data),
                      separators=(",", ":"), sort_keys=True)


def _enqueue(delivery_id: int, series: int, number: int, countdown: float = 0) -> None:
    """Send attempt `number` of `series` once the current transaction commits."""
    from webhooks.tasks import deliver_webhook_task  # the task calls this module: imported when needed

    transaction.on_commit(lambda: deliver_webhook_task.apply_async((delivery_id, series, number),
                                                                   countdown=countdown))


# --- Attempts ----------------------------------------------------------------------------------------------


def delivery_attempt(*, delivery_id: int, series: int, number: int) -> str:
    """Make attempt `number` of the delivery's `series`: "delivered", "retrying", "failed" or "skipped".

    Skipped: the delivery is gone, finished, on a later series (replayed), or this attempt was made
    already (a message delivered twice). The POST is made outside any transaction; the attempt's
    unique number stops a duplicate message recording a second one or scheduling another retry.
    """
    delivery = Delivery.objects.select_related("subscription__owner").filter(pk=delivery_id).first()
    if (delivery is None or delivery.series != series or delivery.status != DeliveryStatus.PENDING
            or delivery.attempts.filter(series=series, number__gte=number).exists()):
        return "skipped"
    subscription = delivery.subscription
    if not subscription.active or subscription.pk not in entitled([subscription]):
        why = "the subscription was deactivated" if not subscription.active else "its login no longer may receive it"
        _finish(delivery, series, DeliveryStatus.FAILED, f"not sent: {why}")
        return "failed"
    timestamp = int(time.time())
    body = delivery.body.encode("utf-8")
    attempted_at = timezone.now()
    answer = post(subscription.url, body, {
        "X-MBS-Signature": signature(subscription.secret, timestamp, body), "X-MBS-Timestamp": str(timestamp),
        "X-MBS-Delivery": str(delivery.pk), "X-MBS-Event": delivery.kind,
    }, timeout=settings.WEBHOOKS_TIMEOUT_SECONDS, excerpt_chars=RESPONSE_EXCERPT_CHARS)
    with transaction.atomic():
        try:
            with transaction.atomic():
                DeliveryAttempt.objects.create(
                    delivery=delivery, series=series, number=number, attempted_at=attempted_at,
                    duration_ms=answer.duration_ms, status_code=answer.status_code, error=answer.error[:500],
                    response_excerpt=answer.excerpt[:RESPONSE_EXCERPT_CHARS], delivered=answer.delivered)
        except IntegrityError:
            return "skipped"  # the same attempt made by a duplicate message, which records and schedules
        if answer.delivered:
            _finish(delivery, series, DeliveryStatus.DELIVERED, "")
            return "delivered"
        problem = answer.error or f"HTTP {answer.status_code}"
        if number >= settings.WEBHOOKS_MAX_ATTEMPTS:
            _finish(delivery, series, DeliveryStatus.FAILED, f"{number} attempts, the last: {problem}")
            return "failed"
        delay = retry_delay(number, base=settings.WEBHOOKS_BACKOFF_SECONDS, cap=settings.WEBHOOKS_BACKOFF_MAX_SECONDS)
        Delivery.objects.filter(pk=delivery.pk, series=series, status=DeliveryStatus.PENDING).update(
            next_attempt_at=timezone.now() + timedelta(seconds=delay), last_error=problem)
        _enqueue(delivery.pk, series, number + 1, countdown=delay)
    return "retrying"


def _finish(delivery: Delivery, series: int, status: str, error: str) -> None:
    # Only the series it was on, and only if still pending: a replay begun meanwhile is left alone.
    Delivery.objects.filter(pk=delivery.pk, series=series, status=DeliveryStatus.PENDING).update(
        status=status, finished_at=timezone.now(), next_attempt_at=None, last_error=error)


def delivery_replay(*, delivery: Delivery, acting_user) -> Delivery:
    """Send a delivered or failed delivery again, as a new series of attempts (its body as first sent)."""
    require_actor(acting_user)
    with transaction.atomic():
        locked = Delivery.objects.select_for_update().select_related("subscription").get(pk=delivery.pk)
        if not locked.subscription.active:
            raise ReplayRefused("its subscription is deactivated: nothing more is sent to it")
        if locked.status == DeliveryStatus.PENDING:
            raise ReplayRefused(f"delivery {locked.pk} is still being delivered (series {locked.series}); "
                                f"replay it once it is delivered or failed")
        locked.series += 1
        locked.status, locked.finished_at, locked.last_error = DeliveryStatus.PENDING, None, ""
        locked.replayed_by = acting_user if is_person(acting_user) else None
        locked.replayed_at = timezone.now()
        locked.save(update_fields=["series", "status", "finished_at", "last_error", "replayed_by", "replayed_at"])
        _enqueue(locked.pk, locked.series, 1)
    return locked
