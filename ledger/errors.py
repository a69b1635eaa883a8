"""The ledger's errors, each naming what went wrong in the business's terms."""


class LedgerError(Exception):
    """Base class: the append was refused and nothing was written."""


class InvalidEvent(LedgerError):
    """An event is malformed: bad stream or account name, type, date or payload."""


class UnbalancedEvent(InvalidEvent):
    """An event's postings do not sum to zero."""


class ConcurrencyConflict(LedgerError):
    """The stream moved on since the caller read it (optimistic concurrency)."""

    def __init__(self, stream: str, expected_version: int | None, actual_version: int):
        self.stream = stream
        self.expected_version = expected_version
        self.actual_version = actual_version
        super().__init__(
            f"stream {stream} is at version {actual_version}, not the expected {expected_version}: "
            "someone else appended first; read the stream again and retry"
        )


class IdempotencyConflict(LedgerError):
    """An idempotency key was used before for different content."""

    def __init__(self, key: str, reason: str):
        self.key = key
        super().__init__(f"idempotency key {key!r}: {reason}")
