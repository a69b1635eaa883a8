"""Permission classes: operations-only endpoints answer 403 to everyone else, always before any look-up."""
from rest_framework.permissions import SAFE_METHODS, BasePermission

from api.access import holder_of, is_operations


class IsOperations(BasePermission):
    message = "This endpoint is for operations staff."

    def has_permission(self, request, view):
        return is_operations(request.user)


class IsInvestor(BasePermission):
    """The caller is linked to a holder; the view reads it from request.holder."""

    message = "This login is not linked to an investor (holder)."

    def has_permission(self, request, view):
        request.holder = holder_of(request.user)
        return request.holder is not None


class ReadOrOperations(BasePermission):
    """Reads for any authenticated caller (the queryset scopes them); writes for operations staff."""

    message = IsOperations.message

    def has_permission(self, request, view):
        if request.method in SAFE_METHODS:
            return bool(request.user and request.user.is_authenticated)
        return is_operations(request.user)
