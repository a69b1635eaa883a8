"""Proof that the log is whole: hash chains, zero sums, order, and read models.

`verify` walks the log in position order with bounded memory and returns the
problems found, the first broken event first. Other apps add their own
checks (e.g. that every closed period reconciles) with `register_check`.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from django.db.models import F

from ledger.domain.hashing import content_of, event_hash
from ledger.models import GENESIS_HASH, LogPosition, Posting, Stream
from ledger.projections import differences
from ledger.domain.records import RecordedEvent
from ledger.selectors import iter_log

_extra_checks: list[tuple[str, Callable[[], list[str]]]] = []


def register_check(name: str, check: Callable[[], list[str]]) -> None:
    """Add a check (returning problem descriptions) that verify_ledger runs after its own."""
    if all(existing != name for existing, _ in _extra_checks):
        _extra_checks.append((name, check))


@dataclass
class Report:
    events: int = 0
    postings: int = 0
    streams: int = 0
    problems: list[str] = field(default_factory=list)
    checks_run: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(*, projections: bool = True) -> Report:
    report = Report()
    heads: dict[str, tuple[int, str]] = {}
    report.problems.extend(_check_chain(report, heads))
    report.checks_run.append("hash chains, versions, positions and zero sums")
    report.problems.extend(_check_bookkeeping(heads, report.events))
    report.checks_run.append("stream heads and position counter")
    if projections:
        report.problems.extend(differences())
        report.checks_run.append("read models equal a replay")
    for name, check in _extra_checks:
        report.problems.extend(check())
        report.checks_run.append(name)
    report.streams = len(heads)
    return report


def _check_chain(report: Report, heads: dict[str, tuple[int, str]]) -> Iterator[str]:
    # The counter moves in the same transaction as each append: read before the walk, every
    # position up to it was committed before the walk began; read after, none beyond it was.
    # So neither check can be fooled by appends while verify runs.
    recorded_before = _position_counter()
    expected_position = 1
    for chunk in iter_log():
        for event in chunk:
            if event.position != expected_position:
                yield (
                    f"event #{expected_position}: missing from the log "
                    f"(positions jump from {expected_position - 1} to {event.position})"
                )
            expected_position = event.position + 1
            yield from _check_event(event, heads)
            report.events += 1
            report.postings += len(event.postings)
    last = expected_position - 1
    if recorded_before > last:
        yield (f"event #{last + 1}: missing from the log (it ends at #{last}; "
               f"the position counter says {recorded_before} were recorded)")
    recorded_after = _position_counter()
    if last > recorded_after:
        yield (f"event #{recorded_after + 1}: recorded beyond the position counter ({recorded_after}): "
               "not appended through the ledger service")
    yield from _check_posting_dates()


def _position_counter() -> int:
    return LogPosition.objects.filter(id=1).values_list("last_position", flat=True).first() or 0


def _check_event(event: RecordedEvent, heads: dict[str, tuple[int, str]]) -> Iterator[str]:
    name = f"event #{event.position} ({event.stream} v{event.version} {event.event_type})"
    version, previous = heads.get(event.stream, (0, GENESIS_HASH))
    if event.version != version + 1:
        yield f"{name}: version should be {version + 1}; the stream's order was changed or an event removed"
    if event.previous_hash != previous:
        yield f"{name}: does not chain to the previous event of its stream"
    content = content_of(
        stream=event.stream, event_type=event.event_type, payload=event.payload,
        effective_date=event.effective_date, postings=event.postings,
    )
    recomputed = event_hash(
        previous_hash=event.previous_hash, position=event.position, version=event.version, content=content,
        recorded_at=event.recorded_at, acting_user_id=event.acting_user_id, idempotency_key=event.idempotency_key,
    )
    if recomputed != event.hash:
        yield f"{name}: its content no longer matches its hash (payload, postings or metadata were altered)"
    total = sum(p.amount_cents for p in event.postings)
    if total != 0:
        yield f"{name}: postings sum to {total} cents, not zero"
    heads[event.stream] = (event.version, event.hash)


def _check_posting_dates() -> Iterator[str]:
    wrong = Posting.objects.exclude(effective_date=F("event__effective_date")).order_by("event_id").first()
    if wrong is not None:
        yield f"event #{wrong.event_id}: posting {wrong.pk} carries another effective date than its event"


def _check_bookkeeping(heads: dict[str, tuple[int, str]], events: int) -> Iterator[str]:
    stored = {name: (version, head) for name, version, head in Stream.objects.values_list("name", "version", "head_hash")}
    for name in sorted(set(stored) | set(heads)):
        if stored.get(name) != heads.get(name):
            yield f"stream {name}: its recorded head {stored.get(name)} differs from its events {heads.get(name)}"
            break
    counter = _position_counter()
    if counter != events:
        yield f"the position counter says {counter} events were recorded, the log holds {events}"
