"""The API's URLs, all under /api/v1/ (config/urls.py). Names are used with the "api:" namespace."""
from django.urls import path, register_converter
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from api.views import analytics, auth, closing, deals, investor, operations, webhooks

app_name = "api"


class NameConverter:
    """A path segment without control characters: a NUL could not even be compared in PostgreSQL."""

    regex = r"[^/\x00-\x1f\x7f]+"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(NameConverter, "name")

LIST, DETAIL = {"get": "list"}, {"get": "retrieve"}

urlpatterns = [
    # Public: the schema, its documentation, and the way in.
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("auth/token/", auth.TokenView.as_view(), name="token"),
    path("me/", investor.MeView.as_view(), name="me"),
    # An investor's own data.
    path("me/holdings/", investor.HoldingsView.as_view(), name="holdings"),
    path("me/register/", investor.RegisterViewSet.as_view(LIST), name="register-list"),
    path("me/register/<int:pk>/", investor.RegisterViewSet.as_view(DETAIL), name="register-detail"),
    path("me/distributions/", investor.DistributionViewSet.as_view(LIST), name="distribution-list"),
    path("me/distributions/<int:pk>/", investor.DistributionViewSet.as_view(DETAIL), name="distribution-detail"),
    path("me/statements/<name:period>/", investor.StatementView.as_view(), name="statement"),
    path("me/webhooks/", webhooks.MySubscriptionsView.as_view(), name="my-webhooks"),
    path("me/webhooks/<int:subscription_id>/", webhooks.MySubscriptionView.as_view(), name="my-webhook"),
    path("me/webhooks/<int:subscription_id>/deliveries/", webhooks.MyDeliveriesView.as_view(),
         name="my-webhook-deliveries"),
    path("me/webhooks/<int:subscription_id>/deliveries/<int:delivery_id>/replay/",
         webhooks.MyDeliveryReplayView.as_view(), name="my-webhook-replay"),
    # Deals: the caller's (investors) or all (operations); forming one is for operations.
    path("trusts/", deals.TrustListView.as_view(), name="trust-list"),
    path("trusts/<name:code>/", deals.TrustDetailView.as_view(), name="trust-detail"),
    path("trusts/<name:code>/classes/", deals.ClassListView.as_view(), name="trust-classes"),
    path("trusts/<name:code>/factors/", deals.FactorHistoryView.as_view(), name="trust-factors"),
    path("trusts/<name:code>/payment-dates/", deals.PaymentDatesView.as_view(), name="trust-payment-dates"),
    path("trusts/<name:code>/reports/<name:period>/", deals.RemittanceReportView.as_view(), name="trust-report"),
    path("trusts/<name:code>/loan-level/<name:period>/", deals.LoanLevelView.as_view(), name="trust-loan-level"),
    path("trusts/<name:code>/statements/<name:period>/", deals.DistributionStatementView.as_view(),
         name="trust-statement"),
    path("trusts/<name:code>/projections/", analytics.ProjectionView.as_view(), name="trust-projections"),
    path("trusts/<name:code>/speeds/", analytics.RealizedSpeedsView.as_view(), name="trust-speeds"),
    # Operations.
    path("trusts/<name:code>/periods/<name:period>/", closing.PeriodStatusView.as_view(), name="period-detail"),
    path("trusts/<name:code>/periods/<name:period>/close/", closing.PeriodCloseView.as_view(), name="period-close"),
    path("loans/", operations.LoanViewSet.as_view(LIST), name="loan-list"),
    path("loans/<name:loan_number>/", operations.LoanViewSet.as_view(DETAIL), name="loan-detail"),
    path("loans/<name:loan_number>/events/", operations.LoanEventsView.as_view(), name="loan-events"),
    path("events/", operations.EventViewSet.as_view(LIST), name="event-list"),
    path("events/<int:position>/", operations.EventViewSet.as_view(DETAIL), name="event-detail"),
    path("payments/", operations.PaymentView.as_view(), name="payments"),
    path("payment-files/", operations.PaymentFileView.as_view(), name="payment-files"),
    path("tapes/", operations.TapeView.as_view(), name="tapes"),
    path("webhooks/", webhooks.SubscriptionsView.as_view(), name="webhooks"),
    path("webhooks/<int:subscription_id>/", webhooks.SubscriptionView.as_view(), name="webhook"),
    path("webhooks/<int:subscription_id>/deliveries/", webhooks.DeliveriesView.as_view(), name="webhook-deliveries"),
    path("webhooks/<int:subscription_id>/deliveries/<int:delivery_id>/replay/", webhooks.DeliveryReplayView.as_view(),
         name="webhook-replay"),
]
