"""Token authentication that reads the login's holder with the token: one query, not two.

Every investor endpoint needs the caller's holder (api.access.holder_of);
DRF's TokenAuthentication reads the token and its user, and holder_of
would then read the holder on its own. Here the holder comes in the same
query (select_related through the reverse one-to-one Holder.user), and is
left on the user for holder_of. Answers, messages and the OpenAPI scheme
(drf-spectacular matches subclasses) are DRF's.
"""
from django.utils.translation import gettext_lazy as _
from drf_spectacular.drainage import set_override
from rest_framework import authentication, exceptions
from rest_framework.settings import api_settings

from trusts.models import Holder

# The attribute holder_of reads: the holder linked to the login, or None when there is none.
HOLDER_ATTRIBUTE = "_api_holder"


class TokenAuthentication(authentication.TokenAuthentication):
    def authenticate_credentials(self, key):
        model = self.get_model()
        try:
            token = model.objects.select_related("user__holder").get(key=key)
        except model.DoesNotExist:
            raise exceptions.AuthenticationFailed(_("Invalid token.")) from None
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        try:
            holder = token.user.holder  # joined above: no query
        except Holder.DoesNotExist:
            holder = None
        setattr(token.user, HOLDER_ATTRIBUTE, holder)
        return (token.user, token)


# The same scheme on the wire as DRF's (Authorization: Token ...): the schema's one "tokenAuth"
# component stands for both classes, so drf-spectacular need not warn that two classes share it.
set_override(TokenAuthentication, "suppress_collision_warning", True)


def with_holder(classes) -> list:
    """The configured authentication classes with DRF's token class replaced by the one above."""
    return [TokenAuthentication if cls is authentication.TokenAuthentication else cls for cls in classes]


# For the investor views (api.views.investor), which all need the holder: the project's
# authentication (settings.REST_FRAMEWORK) with the holder read in the token's query.
INVESTOR_AUTHENTICATION = with_holder(api_settings.DEFAULT_AUTHENTICATION_CLASSES)
