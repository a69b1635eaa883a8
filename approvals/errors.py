"""Why a four-eyes request was refused: each message names the request and the reason.

Nothing is written when one of these is raised: the request (or the
decision) is refused as a whole.
"""


class ApprovalRefused(Exception):
    """A request could not be made or decided as asked; nothing was recorded."""


class UnknownRequest(ApprovalRefused):
    def __init__(self, request_id):
        super().__init__(f"there is no approval request #{request_id}")


class RequestRefused(ApprovalRefused):
    """The act asked for would be refused by the service that carries it out, so it is not requested."""


class DuplicateRequest(RequestRefused):
    def __init__(self, subject: str, pending):
        super().__init__(f"{subject} already has a pending request #{pending.pk}, asked by "
                         f"{pending.requested_by.get_username()}; approve or reject that one")


class DecisionRefused(ApprovalRefused):
    """The login may not decide this request (its own, no permission, or no longer pending)."""


class ActFailed(ApprovalRefused):
    """The approved act was refused by its service; the request stays pending and nothing was recorded."""
