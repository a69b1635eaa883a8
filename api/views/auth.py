"""Obtaining a token: username and password in, token out; throttled per client address.

A username or address that django-axes has locked out (config/settings.py,
"Logins") is refused here too, with the admin's 429 and message: guessing a
password through the API gets around nothing.
"""
from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.parsers import FormParser
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer

from api.parsers import StrictJSONParser
from api.throttles import LoginThrottle


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text='send it as the header "Authorization: Token <token>"')


class TokenView(ObtainAuthToken):
    """Exchange a username and password for the login's API token (the same token each time)."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [LoginThrottle]
    parser_classes = [StrictJSONParser, FormParser]
    renderer_classes = [JSONRenderer]

    @extend_schema(request=ObtainAuthToken.serializer_class, responses=TokenSerializer, auth=[])
    def post(self, request, *args, **kwargs):
        try:
            return super().post(request, *args, **kwargs)
        except exceptions.ValidationError:
            # django-axes marks the request it refused; say why instead of "unable to log in".
            if getattr(request, "axes_locked_out", False):
                raise exceptions.Throttled(wait=settings.AXES_COOLOFF_TIME.total_seconds(),
                                           detail=settings.AXES_COOLOFF_MESSAGE) from None
            raise
