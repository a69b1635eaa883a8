"""Four-eyes in the admin: ask for a close or a reversal, then another staff member approves or rejects it.

Thin: every page calls `approvals.services`, which holds the rules (not
the requester, the approval permission, still pending) and is the only
writer. Requests are never added, changed or deleted through the normal
forms. URLs other pages link to:
- `admin:approvals_request_close`    request-close/?trust=CODE&period=YYYY-MM
- `admin:approvals_request_reversal` request-reversal/?loan=L001
- `admin:approvals_request_forgiveness` request-forgiveness/?loan=L001
"""
from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Case, IntegerField, Value, When
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from approvals.errors import ApprovalRefused
from approvals.forms import CloseRequestForm, ForgivenessRequestForm, RejectForm, ReversalRequestForm
from approvals.models import ApprovalRequest, Kind, State
from approvals.selectors import live_status, with_live_status
from approvals.services import (
    APPROVE_PERMISSION,
    close_request,
    forgiveness_request,
    request_approve,
    request_reject,
    reversal_request,
)
from ledger.admin import ReadOnlyAdmin

REQUESTED = "Requested; another staff member with approval permission must approve it"
REQUEST_PERMISSION = "approvals.add_approvalrequest"


@admin.register(ApprovalRequest)
class ApprovalRequestAdmin(ReadOnlyAdmin):
    change_list_template = "admin/approvals/approvalrequest/change_list.html"
    change_form_template = "admin/approvals/approvalrequest/change_form.html"
    list_display = ("id", "kind", "subject", "requested_by", "requested_at", "state", "decided_by", "live")
    list_display_links = ("id", "subject")
    list_filter = ("state", "kind")
    search_fields = ("=trust__code", "period", "=loan_number", "reference", "requested_by__username")
    list_select_related = ("trust", "requested_by", "decided_by")
    # Pending requests first: they are what someone has to act on.
    ordering = (Case(When(state=State.PENDING, then=Value(0)), default=Value(1), output_field=IntegerField()).asc(),
                "-requested_at")
    readonly_fields = ("kind", "subject", "returned_on", "reason", "terms", "requested_by", "requested_at", "state",
                       "decided_by", "decided_at", "outcome", "live")

    def get_queryset(self, request):
        return with_live_status(super().get_queryset(request))

    def get_fields(self, request, obj=None):
        if obj is not None and obj.kind == Kind.PERIOD_CLOSE:  # a close has no return date and no reason
            return [f for f in self.readonly_fields if f not in ("returned_on", "reason", "terms")]
        if obj is not None and obj.kind == Kind.PRINCIPAL_FORGIVENESS:
            return [f for f in self.readonly_fields if f != "returned_on"]
        return [f for f in self.readonly_fields if f != "terms"]

    @admin.display(description="subject")
    def subject(self, row):
        return row.subject

    @admin.display(description="live status")
    def live(self, row):
        return live_status(row)

    # Never through the normal forms (ReadOnlyAdmin): the request views and the services write,
    # nobody deletes.

    # --- pages -------------------------------------------------------------------------------------------

    def get_urls(self):
        view = self.admin_site.admin_view
        return [  # before the model's own URLs, whose <object_id>/ would take these paths
            path("request-close/", view(self.close_request_view), name="approvals_request_close"),
            path("request-reversal/", view(self.reversal_request_view), name="approvals_request_reversal"),
            path("request-forgiveness/", view(self.forgiveness_request_view), name="approvals_request_forgiveness"),
            path("<int:request_id>/decide/", view(require_POST(self.decide_view)),
                 name="approvals_approvalrequest_decide"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        row = self.get_object(request, object_id)
        can_decide = bool(row and row.state == State.PENDING and request.user.has_perm(APPROVE_PERMISSION)
                          and row.requested_by_id != request.user.pk)
        context = {"can_decide": can_decide, "reject_form": RejectForm(),
                   "decide_url": reverse("admin:approvals_approvalrequest_decide", args=[row.pk]) if row else None}
        return super().change_view(request, object_id, form_url, {**context, **(extra_context or {})})

    def close_request_view(self, request):
        """Ask for a period close: trust and period, prefilled from ?trust=CODE&period=YYYY-MM."""
        form = CloseRequestForm(request.POST or None,
                                initial={"trust": request.GET.get("trust"), "period": request.GET.get("period")})
        return self._request_page(request, form, "Request a period close", lambda data: close_request(
            trust_code=data["trust"].code, period=data["period"], requested_by=request.user))

    def reversal_request_view(self, request):
        """Ask for a payment's return: the loan (?loan=L001), one of its posted payments, the day, the reason."""
        form = ReversalRequestForm(request.POST or None, initial={"loan_number": request.GET.get("loan", "")})
        return self._request_page(request, form, "Request a payment reversal", lambda data: reversal_request(
            loan_number=data["loan_number"], reference=data["reference"], returned_on=data["returned_on"],
            reason=data["reason"], requested_by=request.user))

    def forgiveness_request_view(self, request):
        """Ask for a modification that forgives principal (?loan=L001): its terms, the amount, the reason."""
        form = ForgivenessRequestForm(request.POST or None, initial={"loan_number": request.GET.get("loan", "")})
        return self._request_page(request, form, "Request a principal forgiveness", lambda data: forgiveness_request(
            loan_number=data["loan_number"], terms=form.terms(), reason=data["reason"], requested_by=request.user))

    def _request_page(self, request, form, title: str, ask):
        if not request.user.has_perm(REQUEST_PERMISSION):
            raise PermissionDenied
        if request.method == "POST" and form.is_valid():
            try:
                created = ask(form.cleaned_data)
            except ApprovalRefused as refused:
                form.add_error(None, str(refused))
            else:
                messages.success(request, f"#{created.pk} {created.get_kind_display()} {created.subject}: {REQUESTED}")
                return redirect("admin:approvals_approvalrequest_change", created.pk)
        context = {**self.admin_site.each_context(request), "title": title, "opts": self.opts, "form": form}
        return TemplateResponse(request, "admin/approvals/request_form.html", context)

    def decide_view(self, request, request_id: int):
        """Approve or reject (with a reason); the service refuses the requester and logins without permission."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            if "approve" in request.POST:
                decided = request_approve(request_id=request_id, approver=request.user)
            else:
                reject = RejectForm(request.POST)
                reason = reject.cleaned_data["reason"] if reject.is_valid() else ""
                decided = request_reject(request_id=request_id, approver=request.user, reason=reason)
        except ApprovalRefused as refused:
            messages.error(request, str(refused))
        else:
            messages.success(request, f"#{decided.pk} {decided.state}: {decided.outcome}")
        return redirect("admin:approvals_approvalrequest_change", request_id)
