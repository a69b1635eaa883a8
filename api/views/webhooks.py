"""Webhook subscriptions: an investor's (/me/webhooks/) and operations staff's (/webhooks/).

Each login sees and manages only the subscriptions it made, in the role of
the path: an investor's are for the holder its login is linked to (the
holder is never taken from the request), operations staff's for everything.
Anything else, another login's subscription or delivery, answers 404 as if
it did not exist. The secret is in the answer that makes the subscription,
never again. DELETE deactivates: nothing more is sent, the deliveries stay
readable. A delivered or failed delivery can be replayed (a new series of
attempts); the rules are the webhooks services'.
"""
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from api.authentication import INVESTOR_AUTHENTICATION
from api.idempotency import idempotent
from api.permissions import IsInvestor, IsOperations
from api.serializers.webhooks import (
    DeliverySerializer,
    NewSubscriptionAnswerSerializer,
    NewSubscriptionSerializer,
    ReplaySerializer,
    SubscriptionSerializer,
)
from api.views.common import is_schema_generation
from webhooks.models import Delivery, DeliveryAttempt, Subscription
from webhooks.services import delivery_replay, subscription_create, subscription_deactivate

SUBSCRIPTION = OpenApiParameter("subscription_id", int, OpenApiParameter.PATH)
DELIVERY = OpenApiParameter("delivery_id", int, OpenApiParameter.PATH)


class _Scoped:
    """The caller's own subscriptions in the role of the path (set by the subclasses)."""

    investor = False

    def holder_code(self) -> str | None:
        return self.request.holder.code if self.investor else None

    def subscriptions(self):
        if is_schema_generation(self):
            return Subscription.objects.none()
        return Subscription.objects.filter(owner=self.request.user, holder_code=self.holder_code() or "")

    def subscription(self, subscription_id: int) -> Subscription:
        return get_object_or_404(self.subscriptions(), pk=subscription_id)


class _SubscriptionList(_Scoped, generics.GenericAPIView):
    serializer_class = SubscriptionSerializer

    def get_queryset(self):
        return self.subscriptions().order_by("-id")

    @extend_schema(responses=SubscriptionSerializer(many=True))
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(SubscriptionSerializer(page, many=True, context={"request": request}).data)

    @extend_schema(request=NewSubscriptionSerializer, responses={201: NewSubscriptionAnswerSerializer})
    @idempotent
    def post(self, request):
        asked = NewSubscriptionSerializer(data=request.data)
        asked.is_valid(raise_exception=True)
        subscription, secret = subscription_create(acting_user=request.user, holder_code=self.holder_code(),
                                                   **asked.validated_data)
        subscription.secret = secret
        return Response(NewSubscriptionAnswerSerializer(subscription, context={"request": request}).data,
                        status=status.HTTP_201_CREATED)


@extend_schema(parameters=[SUBSCRIPTION])
class _SubscriptionDetail(_Scoped, APIView):
    @extend_schema(responses=SubscriptionSerializer)
    def get(self, request, subscription_id: int):
        return Response(SubscriptionSerializer(self.subscription(subscription_id), context={"request": request}).data)

    @extend_schema(responses={204: None})
    def delete(self, request, subscription_id: int):
        subscription_deactivate(subscription=self.subscription(subscription_id), acting_user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(parameters=[SUBSCRIPTION])
class _DeliveryList(_Scoped, generics.GenericAPIView):
    serializer_class = DeliverySerializer

    def get_queryset(self):
        if is_schema_generation(self):
            return Delivery.objects.none()
        return (Delivery.objects.filter(subscription=self.subscription(self.kwargs["subscription_id"]))
                .prefetch_related(Prefetch("attempts", queryset=DeliveryAttempt.objects.order_by("series", "number")))
                .order_by("-id"))

    @extend_schema(responses=DeliverySerializer(many=True))
    def get(self, request, subscription_id: int):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(DeliverySerializer(page, many=True).data)


@extend_schema(parameters=[SUBSCRIPTION, DELIVERY])
class _DeliveryReplay(_Scoped, APIView):
    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        # Found before anything else (the body, the Idempotency-Key): another login's delivery answers 404
        # whatever was sent, exactly as one that does not exist.
        self.delivery = get_object_or_404(Delivery, subscription=self.subscription(kwargs["subscription_id"]),
                                          pk=kwargs["delivery_id"])

    @extend_schema(request=ReplaySerializer, responses={202: DeliverySerializer})
    @idempotent
    def post(self, request, subscription_id: int, delivery_id: int):
        ReplaySerializer(data=request.data).is_valid(raise_exception=True)
        replayed = delivery_replay(delivery=self.delivery, acting_user=request.user)
        return Response(DeliverySerializer(Delivery.objects.prefetch_related("attempts").get(pk=replayed.pk)).data,
                        status=status.HTTP_202_ACCEPTED)


class _Investor:
    authentication_classes = INVESTOR_AUTHENTICATION
    permission_classes = [IsInvestor]
    investor = True


class _Operations:
    permission_classes = [IsOperations]


class MySubscriptionsView(_Investor, _SubscriptionList):
    """The caller's webhook subscriptions (for their holder); POST makes one and shows its secret once."""


class MySubscriptionView(_Investor, _SubscriptionDetail):
    """One of the caller's subscriptions; DELETE deactivates it."""


class MyDeliveriesView(_Investor, _DeliveryList):
    """A subscription's deliveries, newest first, each with its attempts."""


class MyDeliveryReplayView(_Investor, _DeliveryReplay):
    """Send a delivered or failed delivery again (a new series of attempts): 202."""


class SubscriptionsView(_Operations, _SubscriptionList):
    """The caller's operations webhook subscriptions (every holder's facts); POST makes one and shows its secret once."""


class SubscriptionView(_Operations, _SubscriptionDetail):
    """One of the caller's operations subscriptions; DELETE deactivates it."""


class DeliveriesView(_Operations, _DeliveryList):
    """A subscription's deliveries, newest first, each with its attempts."""


class DeliveryReplayView(_Operations, _DeliveryReplay):
    """Send a delivered or failed delivery again (a new series of attempts): 202."""
