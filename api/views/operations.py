"""Operations: loans and their history, the event log, boarding tapes, payments and payment files.

Every endpoint here is for the "operations" group and answers 403 to anyone
else, before looking anything up. Writes go through the servicing services
with the caller as the acting user, and honour Idempotency-Key.
"""
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import filters as drf_filters
from rest_framework import generics, status, viewsets
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from ledger import business_time
from api.filters import EventFilter, LoanFilter
from api.idempotency import idempotent
from api.parsers import StrictJSONParser
from api.pagination import LogCursor
from api.permissions import IsOperations
from api.serializers.common import EventSerializer, PreviewQuerySerializer, UploadSerializer
from api.serializers.operations import (
    BoardingResultSerializer,
    LoanDetailSerializer,
    LoanListSerializer,
    NewPaymentSerializer,
    PaymentFilePreviewSerializer,
    PaymentFileResultSerializer,
    PaymentResultSerializer,
    TapePreviewSerializer,
    TapeUploadSerializer,
)
from api.views.common import is_schema_generation
from ledger.models import Event, Posting
from servicing.models import Loan, loan_stream
from servicing.services.boarding import tape_board, tape_preview
from servicing.services.payment_files import payment_file_import, payment_file_preview
from servicing.services.payments import payment_post

LOAN = OpenApiParameter("loan_number", str, OpenApiParameter.PATH,
                        examples=[OpenApiExample("a seed loan", value="L001")])
PAYMENT_EXAMPLE = OpenApiExample("an installment", request_only=True, value={
    "loan_number": "L001", "amount": "849.55", "received_on": "2026-03-02", "reference": "BANK-2026-03-02-0001"})


def _events(events):
    return events.select_related("acting_user").prefetch_related(
        Prefetch("postings", queryset=Posting.objects.order_by("id")))


class LoanViewSet(viewsets.ReadOnlyModelViewSet):
    """Loans with their balance, status and delinquency; filter, search (?search=) and order them."""

    permission_classes = [IsOperations]
    lookup_field = "loan_number"
    filterset_class = LoanFilter
    filter_backends = [*viewsets.ReadOnlyModelViewSet.filter_backends, drf_filters.SearchFilter,
                       drf_filters.OrderingFilter]
    search_fields = ["^loan_number", "borrower__name"]
    ordering_fields = ["loan_number", "position__principal_balance_cents", "position__next_due_date"]
    ordering = ["loan_number"]

    def get_queryset(self):
        return Loan.objects.filter(position__isnull=False).select_related("position", "borrower", "property")

    def get_serializer_class(self):
        return LoanDetailSerializer if self.action == "retrieve" else LoanListSerializer


@extend_schema(parameters=[LOAN])
class LoanEventsView(generics.ListAPIView):
    """A loan's history: the events of its stream, oldest first."""

    permission_classes = [IsOperations]
    serializer_class = EventSerializer
    filter_backends = []

    def get_queryset(self):
        if is_schema_generation(self):
            return Event.objects.none()
        loan = get_object_or_404(Loan, loan_number=self.kwargs["loan_number"])
        return _events(Event.objects.filter(stream=loan_stream(loan.loan_number))).order_by("version")


class EventViewSet(viewsets.ReadOnlyModelViewSet):
    """The event log in position order (cursor pagination); filter by stream, type and effective date."""

    permission_classes = [IsOperations]
    serializer_class = EventSerializer
    filterset_class = EventFilter
    pagination_class = LogCursor
    lookup_field = "position"

    def get_queryset(self):
        return _events(Event.objects.all())


class PaymentView(APIView):
    """Post one payment received on a loan (split by the application order, or a payoff)."""

    permission_classes = [IsOperations]
    parser_classes = [StrictJSONParser]

    @extend_schema(request=NewPaymentSerializer, examples=[PAYMENT_EXAMPLE],
                   responses={201: PaymentResultSerializer, 200: PaymentResultSerializer})
    @idempotent
    def post(self, request):
        asked = NewPaymentSerializer(data=request.data)
        asked.is_valid(raise_exception=True)
        data = asked.validated_data
        result = payment_post(loan_number=data["loan_number"], amount_cents=data["amount"],
                              received_on=data["received_on"], reference=data["reference"],
                              principal_only=data["principal_only"], acting_user=request.user)
        code = status.HTTP_200_OK if result.already_posted else status.HTTP_201_CREATED
        return Response(PaymentResultSerializer(_payment_answer(result)).data, status=code)


class _UploadView(APIView):
    """A file upload with ?preview=true (report what would happen, record nothing)."""

    permission_classes = [IsOperations]
    parser_classes = [MultiPartParser]
    upload_serializer = UploadSerializer

    def upload(self, request):
        upload = self.upload_serializer(data=request.data)
        upload.is_valid(raise_exception=True)
        return upload


class TapeView(_UploadView):
    """Board loans from a loan tape (CSV): all of them or none; ?preview=true lists the problems only."""

    upload_serializer = TapeUploadSerializer

    @extend_schema(request={"multipart/form-data": TapeUploadSerializer}, parameters=[PreviewQuerySerializer],
                   responses={200: TapePreviewSerializer, 201: BoardingResultSerializer})
    @idempotent
    def post(self, request):
        preview = PreviewQuerySerializer.wanted(request)
        upload = self.upload(request)
        if preview:
            rows, problems = tape_preview(raw=upload.raw())
            return Response(TapePreviewSerializer({"rows": rows, "problems": problems}).data)
        boarded_on = upload.validated_data.get("boarded_on") or business_time.today()
        result = tape_board(raw=upload.raw(), boarded_on=boarded_on, acting_user=request.user)
        return Response(BoardingResultSerializer(result).data, status=status.HTTP_201_CREATED)


class PaymentFileView(_UploadView):
    """Import a payment file (CSV): every payment or none; ?preview=true checks it without posting."""

    @extend_schema(request={"multipart/form-data": UploadSerializer}, parameters=[PreviewQuerySerializer],
                   responses={200: PaymentFilePreviewSerializer, 201: PaymentFileResultSerializer})
    @idempotent
    def post(self, request):
        preview = PreviewQuerySerializer.wanted(request)
        raw = self.upload(request).raw()
        if preview:
            return Response(PaymentFilePreviewSerializer(payment_file_preview(raw=raw)).data)
        result = payment_file_import(raw=raw, acting_user=request.user)
        posted = [_payment_answer(p) for p in result.posted]
        return Response(PaymentFileResultSerializer({"posted": posted, "already_posted": result.already_posted}).data,
                        status=status.HTTP_201_CREATED)


def _payment_answer(result) -> dict:
    """A PaymentResult with its computed properties, for PaymentResultSerializer."""
    return {**vars(result), "paid_off": result.paid_off, "parts": result.parts}
