"""The webhooks' refusals: each names what is wrong, and nothing is written."""


class WebhookError(Exception):
    """A webhook request refused."""


class TargetRefused(WebhookError, ValueError):
    """The URL may not be sent to: not https, not public, or not a URL at all (webhooks.targets)."""


class SubscriptionRefused(WebhookError, ValueError):
    """A subscription cannot be made as asked (unknown kinds, a login with no role, too many)."""


class ReplayRefused(WebhookError):
    """A delivery cannot be replayed now (its subscription is inactive, or its series is still running)."""
