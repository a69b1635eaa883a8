"""An investor's lists (distributions, holdings) kept in the cache until a close or a register change.

What these lists show changes only when a period closes (factors,
distributions) or the register changes (holdings); between those, every
portal visit would build the same answer again. `CachedInvestorList` keeps
a list view's answer (its data, before rendering) in the Django cache and
gives it back while nothing it shows has changed:

- keyed by the caller's holder (request.holder, set by IsInvestor from the
  token) and the whole URL (path, query, host: the page links are absolute)
  and the business date (holdings are "as of today" by default), so an
  answer is only ever found by the holder it was built for; the holder's id
  is also stored with the answer and checked when it is read;
- stamped with the generation of trusts.investor_reads, read BEFORE the
  answer is built: the projections that write register lines, factors and
  distributions give it a new value after they commit, so an answer built
  from before a close is never found after it (an answer built during the
  commit is stamped with the old generation, and is stale-proof for that
  reason too);
- read with the generation in one round trip (get_many);
- only 200s in JSON are kept; errors (a bad filter, a page past the end)
  and the browsable API's pages are built every time;
- when the cache cannot be reached the answer is built as if nothing was
  kept: the cache saves time, it is never needed for an answer.

On only with settings.API_READ_CACHE (by default when CACHE_URL names a
shared cache: a per-process cache would never hear of a close made by a
worker).
"""
from __future__ import annotations

import hashlib
import logging

from django.conf import settings
from django.core.cache import cache
from rest_framework.response import Response

from ledger import business_time
from trusts import investor_reads

logger = logging.getLogger(__name__)

# A kept answer is dropped after this long even if nothing changed: a bound on memory for
# investors who never come back, and on any change a writer failed to announce.
KEEP_SECONDS = 15 * 60


def answer_key(request, view_name: str) -> str:
    """Where the answer to this request by this holder is kept."""
    what = "\n".join((view_name, str(request.holder.pk), request.build_absolute_uri(),
                      business_time.today().isoformat()))
    return f"api:investor_answer:{hashlib.sha256(what.encode()).hexdigest()}"


class CachedInvestorList:
    """For a list view of the caller's own rows (IsInvestor): its answers kept as described above."""

    def list(self, request, *args, **kwargs):
        # JSON only: what portals ask for. The browsable API (a person in a browser) builds its page
        # from the paginator and filter state of a list built now.
        if not getattr(settings, "API_READ_CACHE", False) or request.accepted_renderer.format != "json":
            return super().list(request, *args, **kwargs)
        holder_id = request.holder.pk
        key = answer_key(request, type(self).__name__)
        try:
            found = cache.get_many([investor_reads.KEY, key])
            generation = found.get(investor_reads.KEY) or investor_reads.current()
        except Exception:
            logger.warning("the investor answer cache cannot be read; answering without it", exc_info=True)
            return super().list(request, *args, **kwargs)
        kept = found.get(key)
        if kept is not None and kept[0] == generation and kept[1] == holder_id:
            return Response(kept[2])
        response = super().list(request, *args, **kwargs)
        if response.status_code == 200:
            try:
                cache.set(key, (generation, holder_id, response.data), KEEP_SECONDS)
            except Exception:
                logger.warning("the investor answer cache cannot be written", exc_info=True)
        return response
