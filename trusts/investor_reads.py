"""The generation of what an investor reads: changes whenever a register line, a class factor or a distribution does.

An investor's holdings and distributions change only at a close (ClassPeriod,
Distribution) and when the register changes (HoldingMovement). The
projections that write those tables call `changed()`; it gives the
generation a new value once the transaction commits, in the Django cache
(CACHE_URL: Redis, shared by every process). A reader that keys what it
keeps by `current()` (the API's cache, api.read_cache) never finds an answer
from before the change: after the commit every key is new.

The value is random, not a counter: if the cache loses the key (an eviction,
a restart) it starts again from a value never used before, so old answers
can never come back. Here, in trusts, because the writers are here and in
remittance (above trusts); the API (the top layer) only reads it.
"""
from __future__ import annotations

import logging
import secrets

from django.core.cache import cache as default_cache
from django.db import transaction

logger = logging.getLogger(__name__)

KEY = "investor_reads:generation"


def _new_value() -> str:
    return secrets.token_hex(8)


def current(cache=default_cache) -> str:
    """The generation now; a new one if the cache holds none (first use, or the key was evicted)."""
    value = cache.get(KEY)
    if value is None:
        cache.add(KEY, _new_value(), timeout=None)  # add: two processes starting at once agree on one
        value = cache.get(KEY)
    return value


def bump(cache=default_cache) -> None:
    """A new generation now (after a commit, or for a cache that must forget what it holds)."""
    try:
        cache.set(KEY, _new_value(), timeout=None)
    except Exception:
        # The cache server cannot be reached: the write has committed and must not fail now. An answer kept
        # from before can be read until it expires (api.read_cache.KEEP_SECONDS), and only if the cache is
        # back by then; the error is logged for whoever watches the logs.
        logger.exception("investor read models changed but the cache could not be told")


def changed() -> None:
    """Investors' read models changed in this transaction: a new generation once it commits.

    After the commit, not before: a reader that saw the new generation before
    the commit could cache the old rows under it.
    """
    transaction.on_commit(bump)
