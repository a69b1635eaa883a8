"""The event log, its postings, and the ledger's own read models.

`Event` and `Posting` are facts: the database refuses to update, delete or
truncate them (see db_triggers.py); the model methods refuse too, so the
mistake is caught before it reaches the database. Everything else here is a
projection or a bookkeeping row that can be rebuilt from the log.
"""
from django.conf import settings
from django.db import models
from django.db.models import Q

GENESIS_HASH = "0" * 64


class ImmutableRecordError(Exception):
    """Somebody tried to change or remove a recorded fact."""


class AppendOnlyModel(models.Model):
    """A model whose rows, once written, are never changed or deleted."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ImmutableRecordError(
                f"{type(self).__name__} rows are append-only; record a correcting event instead"
            )
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableRecordError(f"{type(self).__name__} rows are append-only and cannot be deleted")


class Event(AppendOnlyModel):
    """One fact, in the past tense, on one stream of the log."""

    # Gap-free global order for readers; assigned from LogPosition under its row lock.
    position = models.BigIntegerField(primary_key=True)
    stream = models.CharField(max_length=200)
    version = models.PositiveIntegerField(help_text="1 for the first event of its stream")
    # No index of its own: every query by type also names streams or a range of positions
    # (docs/SCHEMA.md); one more index on the log is paid by every event written.
    event_type = models.CharField(max_length=100)
    payload = models.JSONField()
    # Indexed for the autopay task's "drafted today" and the operations API's date filter.
    effective_date = models.DateField(db_index=True, help_text="the business date of the fact")
    recorded_at = models.DateTimeField()
    # No index: nothing looks events up by who recorded them; deleting a login that never
    # acted scans the log once (one that acted cannot be deleted: PROTECT).
    acting_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        db_index=False,
    )
    idempotency_key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    previous_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["stream", "version"], name="ledger_event_stream_version_unique"),
            models.CheckConstraint(condition=Q(version__gte=1), name="ledger_event_version_positive"),
            models.CheckConstraint(condition=Q(position__gte=1), name="ledger_event_position_positive"),
        ]

    def __str__(self):
        return f"#{self.position} {self.stream} v{self.version} {self.event_type}"


class Posting(AppendOnlyModel):
    """One line of an event's double entry: an amount in cents on an account."""

    event = models.ForeignKey(Event, on_delete=models.PROTECT, related_name="postings")
    account = models.CharField(max_length=200)
    amount_cents = models.BigIntegerField(help_text="positive is a debit, negative a credit")
    # A copy of the event's effective date, so a balance as of a date needs no join.
    effective_date = models.DateField()

    class Meta:
        ordering = ["event_id", "id"]
        indexes = [
            # varchar_pattern_ops serves both equality and prefix (LIKE 'loan:L1:%')
            # look-ups whatever the database's collation; SQLite ignores the opclass.
            models.Index(
                fields=["account", "effective_date"],
                name="ledger_posting_account_date",
                opclasses=["varchar_pattern_ops", "date_ops"],
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(amount_cents=0), name="ledger_posting_amount_not_zero"),
        ]

    def __str__(self):
        return f"{self.account} {self.amount_cents}"


class LogPosition(models.Model):
    """The last global position handed out: one row, locked by each append.

    Taking this row lock is what makes positions gap-free and commit-ordered:
    a position is handed out only once the previous holder committed or rolled
    back, and a rollback returns its positions with it.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_position = models.BigIntegerField(default=0)


class Stream(models.Model):
    """The head of each stream (its version and last hash): an index over the log.

    Kept in the same transaction as every append and checked by verify_ledger
    against the events themselves; the unique (stream, version) constraint on
    events stays the final guard against two writers.
    """

    name = models.CharField(max_length=200, primary_key=True)
    version = models.PositiveIntegerField()
    head_hash = models.CharField(max_length=64)

    def __str__(self):
        return f"{self.name} v{self.version}"


class AccountBalanceSlot(models.Model):
    """Read model, as written: one row per account, or several for a hot account (its slots).

    An account every payment posts to (the custodial cash) would be one row
    that every concurrent writer updates, so they would queue on its lock
    until each commits. A hot account (`ledger.projections.register_hot_account`)
    is spread over `HOT_SLOTS` rows instead, each writer adding to the slot of
    its database session; every other account has slot 0 only. A slot is not
    an account: never read this table, read `AccountBalance` (the sums).
    """

    pk = models.CompositePrimaryKey("account", "slot")
    account = models.CharField(max_length=200)
    slot = models.PositiveSmallIntegerField(default=0)
    balance_cents = models.BigIntegerField()
    posting_count = models.BigIntegerField()
    last_position = models.BigIntegerField()

    def __str__(self):
        return f"{self.account} [{self.slot}]: {self.balance_cents}"


class AccountBalance(models.Model):
    """Read model: the current balance of every account that has postings.

    A database view (ledger migration 0008) summing each account's slots of
    `AccountBalanceSlot`: the one place a balance is put together, so every
    reader (selectors, verification, the admin, raw SQL on
    `ledger_accountbalance`) sees an account once, whatever its slots.
    """

    account = models.CharField(max_length=200, primary_key=True)
    balance_cents = models.BigIntegerField()
    posting_count = models.BigIntegerField()
    last_position = models.BigIntegerField()

    class Meta:
        managed = False
        db_table = "ledger_accountbalance"

    def __str__(self):
        return f"{self.account}: {self.balance_cents}"
