"""Projections: read models kept in step with the log and rebuildable from it.

Each app registers its projections at start-up. `registry.apply` runs inside
the append's transaction, so a read model never disagrees with the log that
committed with it; `rebuild` replays the whole log into emptied read models;
`differences` proves a replay reproduces what is stored.
"""
from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections import defaultdict
from collections.abc import Iterable, Sequence

from django.db import connection, models, transaction

from ledger.bulk import upsert_sums
from ledger.domain.records import RecordedEvent


class Projection(ABC):
    """A read model fed by events. Subclasses set the class attributes and `apply`."""

    name: str = ""
    # Event types it reads; None means every event.
    event_types: frozenset[str] | None = None
    # The tables it owns, emptied before a rebuild (children before parents).
    models: tuple[type[models.Model], ...] = ()
    # Fields left out of the comparison with a replay (surrogate keys).
    unstable_fields: frozenset[str] = frozenset({"id"})

    @abstractmethod
    def apply(self, events: Sequence[RecordedEvent]) -> None:
        """Fold these events (in position order, of the wanted types) into the read model."""

    def clear(self) -> None:
        for model in self.models:
            model.objects.all().delete()

    def snapshot(self) -> dict[str, list[tuple]]:
        """Every row of every table it owns, as sorted tuples: what a replay must reproduce."""
        state = {}
        for model in self.models:
            fields = [f.attname for f in model._meta.concrete_fields if f.attname not in self.unstable_fields]
            state[model._meta.label] = sorted(
                (tuple(_hashable(v) for v in row) for row in model.objects.values_list(*fields)), key=repr
            )
        return state


def _hashable(value):
    # JSON columns come back as dicts and lists: compare them by their canonical text.
    return json.dumps(value, sort_keys=True) if isinstance(value, (dict, list)) else value


class ProjectionRegistry:
    def __init__(self):
        self._projections: list[Projection] = []

    def register(self, projection: Projection) -> None:
        if any(p.name == projection.name for p in self._projections):
            return  # ready() may run twice (e.g. in tests); registering is idempotent
        self._projections.append(projection)

    def __iter__(self):
        return iter(list(self._projections))

    def get(self, name: str) -> Projection:
        for p in self._projections:
            if p.name == name:
                return p
        raise KeyError(f"no projection named {name!r}")

    def apply(self, events: Sequence[RecordedEvent], only: Iterable[Projection] | None = None) -> None:
        for projection in only if only is not None else self._projections:
            wanted = [e for e in events if projection.event_types is None or e.event_type in projection.event_types]
            if wanted:
                projection.apply(wanted)


registry = ProjectionRegistry()


def rebuild(projections: Iterable[Projection] | None = None) -> int:
    """Empty the read models and replay the whole log into them; returns events replayed."""
    from ledger.selectors import iter_log

    chosen = list(projections) if projections is not None else list(registry)
    replayed = 0
    with transaction.atomic():
        for projection in reversed(chosen):
            projection.clear()
        for chunk in iter_log():
            registry.apply(chunk, only=chosen)
            replayed += len(chunk)
    return replayed


class _Rollback(Exception):
    pass


def differences() -> list[str]:
    """Compare every stored read model with a fresh replay of the log; nothing is changed.

    Runs inside a transaction that holds the log's position lock and is rolled
    back at the end, so it sees a still log and leaves the read models as they were.
    """
    from ledger.models import LogPosition

    found: list[str] = []
    try:
        with transaction.atomic():
            LogPosition.objects.select_for_update().filter(id=1).first()
            stored = {p.name: p.snapshot() for p in registry}
            rebuild()
            for projection in registry:
                found.extend(_compare(projection.name, stored[projection.name], projection.snapshot()))
            raise _Rollback
    except _Rollback:
        pass
    return found


def _compare(name: str, stored: dict[str, list[tuple]], replayed: dict[str, list[tuple]]) -> list[str]:
    problems = []
    for table in stored:
        had, want = set(stored[table]), set(replayed[table])
        extra, missing = sorted(had - want, key=repr), sorted(want - had, key=repr)
        if extra or missing:
            sample = (f"stored {extra[0]}" if extra else "") + (f" replay {missing[0]}" if missing else "")
            problems.append(
                f"projection {name}: {table} differs from a replay of the log "
                f"({len(extra)} stored rows not reproduced, {len(missing)} replayed rows missing; e.g. {sample.strip()})"
            )
    return problems


# How many rows a hot account is spread over: enough that the writers of one
# machine (workers, web processes) rarely share one, few enough to sum at once.
HOT_SLOTS = 8
_hot_accounts: set[str] = set()


def register_hot_account(account: str) -> None:
    """Spread this account's balance over HOT_SLOTS rows: one that many concurrent writers post to.

    The apps above the ledger name their hot accounts at start-up (servicing:
    the custodial cash every payment moves, the boarding clearing account).
    """
    _hot_accounts.add(account)


def writer_slot() -> int:
    """The slot this database session adds a hot account's postings to.

    The session's backend process id: concurrent transactions run in
    different sessions, so two writers share a slot only when their ids
    agree modulo HOT_SLOTS; a session keeps its slot, so its own writes
    never spread further than they need. SQLite has one writer at a time:
    always slot 0.
    """
    if connection.vendor != "postgresql":
        return 0
    connection.ensure_connection()
    return connection.connection.info.backend_pid % HOT_SLOTS


class AccountBalanceProjection(Projection):
    """The current balance of every account: the ledger's own read model.

    Written as slots (`AccountBalanceSlot`: a hot account in the slot of the
    writer's session, every other account in slot 0), read as sums
    (`AccountBalance`). A replay puts a hot account's postings in the
    replaying session's slot, not where the original writers put them, so
    the comparison with a replay is of each account's sums (`snapshot`): the
    slots are where a balance is kept, not part of what it is.
    """

    name = "ledger.account_balances"
    event_types = None

    @property
    def models(self):
        from ledger.models import AccountBalanceSlot

        return (AccountBalanceSlot,)

    def apply(self, events: Sequence[RecordedEvent]) -> None:
        totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
        for event in events:
            for line in event.postings:
                entry = totals[line.account]
                entry[0] += line.amount_cents
                entry[1] += 1
                entry[2] = event.position
        if not totals:
            return
        slot = writer_slot() if _hot_accounts.intersection(totals) else 0
        # Sorted so concurrent writers lock rows in the same order (no deadlock).
        rows = [(account, slot if account in _hot_accounts else 0, *totals[account]) for account in sorted(totals)]
        upsert_sums("ledger_accountbalanceslot", ("account", "slot"), ("balance_cents", "posting_count"), rows,
                    replace=("last_position",), key_types=("varchar", "smallint"))

    def snapshot(self) -> dict[str, list[tuple]]:
        from ledger.models import AccountBalance

        rows = AccountBalance.objects.values_list("account", "balance_cents", "posting_count", "last_position")
        return {AccountBalance._meta.label: sorted(rows)}
