"""Projecting what a request asks for: the pool its options describe, or a trust as it stands."""
from __future__ import annotations

from analytics.domain.deal_projection import DealProjection, project
from analytics.domain.scenarios import Request, pool_deal
from analytics.selectors import trust_deal


def project_request(request: Request) -> DealProjection:
    """The projection of the request's pool (or trust) under its scenario, priced as it asks."""
    if request.trust_code:
        deal, _period = trust_deal(request.trust_code)
    else:
        deal = pool_deal(request.pool, request.classes)
    return project(deal, request.prepayment, request.defaults, request.pricing)
