"""Django admin for sessions_app: consultations (read-only) and the free-session review cases with their decisions.

Cases are never edited in a form: each decision (disqualify, dismiss, reinstate) is an admin view with a
small form that calls one service. Only staff holding the review permission see cases and decide them.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from accounts.admin import ReadOnlyAdmin
from payouts.templatetags.money import money

from .models import Consultation, FreeSessionReviewCase
from .selectors import free_session_figures
from .services import (
    CANCEL_REASON,
    REVIEW_PERMISSION,
    ConsultationError,
    ReviewError,
    consultation_cancel,
    review_dismiss,
    review_disqualify,
    sme_reinstate,
)

Case = FreeSessionReviewCase


def _can_review(request: HttpRequest) -> bool:
    return request.user.is_active and request.user.is_staff and request.user.has_perm(REVIEW_PERMISSION)


def _consultations_url(sme_id: int, *, free_only: bool = False) -> str:
    url = reverse("admin:sessions_app_consultation_changelist") + f"?sme__id__exact={sme_id}"
    return url + "&free=yes" if free_only else url


class FreeFilter(admin.SimpleListFilter):
    title = "price"
    parameter_name = "free"

    def lookups(self, request, model_admin):
        return [("yes", "Free"), ("no", "Paid")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(price_cents=0)
        if self.value() == "no":
            return queryset.filter(price_cents__gt=0)
        return queryset


@admin.register(Consultation)
class ConsultationAdmin(ReadOnlyAdmin):
    """Read-only: consultations change only through their services (the site, the room, the review)."""

    list_display = ["title", "sme", "client", "state", "price", "live_at", "created_at"]
    list_filter = ["state", FreeFilter, ("sme", admin.RelatedOnlyFieldListFilter), "live_at"]
    list_select_related = ["sme", "client"]
    search_fields = ["title", "sme__username", "client__username"]
    date_hierarchy = "created_at"
    # The one change made here: what a disqualification left "for admins to decide" is cancelled by a reviewer.
    actions = ["cancel_not_held"]
    # The join token and the room's channel names stay out of sight: they are the room's keys.
    fields = [
        "title",
        "sme",
        "client",
        "state",
        "price",
        "agreed_minutes",
        "extension_minutes",
        "scheduled_start",
        "created_at",
        "claimed_at",
        "ready_at",
        "live_at",
        "ended_at",
        "ended_by",
        "end_reason",
    ]
    readonly_fields = fields

    @admin.display(description="price", ordering="price_cents")
    def price(self, obj: Consultation) -> str:
        if obj.price_cents == 0:
            return "free"
        return money(obj.price_cents, obj.currency)

    def has_view_permission(self, request, obj=None):
        # Reviewers follow a case's links to the SME's consultations.
        return super().has_view_permission(request, obj) or _can_review(request)

    def has_review_permission(self, request) -> bool:
        return _can_review(request)

    @admin.action(
        description="Cancel the selected consultations not held yet (their members are e-mailed)",
        permissions=["review"],
    )
    def cancel_not_held(self, request: HttpRequest, queryset) -> None:
        cancelled, refused = 0, []
        for consultation in queryset.select_related("sme__sme_profile"):
            profile = getattr(consultation.sme, "sme_profile", None)
            reason = CANCEL_REASON if profile and profile.is_disqualified else "Cancelled by the InterKanect team."
            try:
                cancelled += consultation_cancel(consultation=consultation, actor=request.user, reason=reason)
            except ConsultationError as exc:
                refused.append(f"“{consultation.title}”: {exc.message}")
        self.message_user(request, f"Consultations cancelled: {cancelled}.", messages.SUCCESS)
        if refused:
            self.message_user(request, "Not cancelled: " + " ".join(refused), messages.WARNING)


class DisqualifyForm(forms.Form):
    reason = forms.CharField(
        label="Reason shown to the expert",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=500,
        help_text="The expert reads it on their dashboard after “Your SME account was disqualified:”, "
        "for example: most of your sessions this month were given away for free.",
    )
    open_consultations = forms.ChoiceField(
        label="Their consultations not held yet",
        choices=Case.OpenConsultations.choices,
        widget=forms.RadioSelect,
        help_text="A live consultation always runs to its end. Left ones can be cancelled later from the "
        "consultations list (action). Earned balances are paid out either way.",
    )


class NoteForm(forms.Form):
    note = forms.CharField(label="Note for the other admins", widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)


@admin.register(FreeSessionReviewCase)
class FreeSessionReviewCaseAdmin(ReadOnlyAdmin):
    change_form_template = "admin/sessions_app/freesessionreviewcase/change_form.html"
    list_display = ["opened_at", "sme", "kind", "status", "figures", "crossed", "decide", "consultations", "decided_by"]
    list_filter = ["kind", "status", "opened_at"]
    list_select_related = ["sme", "decided_by"]
    search_fields = ["sme__username", "sme__email", "sme__sme_profile__display_name"]
    actions = None
    fieldsets = [
        (None, {"fields": ["sme", "kind", "paypal_holder", "status", "opened_at", "consultations", "figures_now"]}),
        (
            "What opened it",
            {
                "fields": [
                    "figures",
                    "crossed",
                    "window_start",
                    "window_end",
                    "max_count",
                    "max_share_percent",
                    "share_min_sessions",
                ]
            },
        ),
        (
            "Decision",
            {"fields": ["decided_at", "decided_by", "decision_text", "open_consultations", "cancelled_consultations"]},
        ),
        ("Reinstatement", {"fields": ["reinstated_at", "reinstated_by", "reinstatement_note"]}),
    ]
    readonly_fields = [field for _, options in fieldsets for field in options["fields"]]

    @admin.display(description="figures")
    def figures(self, obj: Case) -> str:
        return f"{obj.free_sessions} free of {obj.live_sessions} live sessions"

    @admin.display(description="figures now")
    def figures_now(self, obj: Case) -> str:
        # The case keeps the figures that opened it; the reviewer also wants today's.
        now = free_session_figures(sme=obj.sme)
        return (
            f"{now.free_sessions} free of {now.live_sessions} live sessions in the last {now.limits.window_days} days"
        )

    @admin.display(description="consultations")
    def consultations(self, obj: Case) -> str:
        return format_html(
            '<a href="{}">all</a> · <a href="{}">free</a>',
            _consultations_url(obj.sme_id),
            _consultations_url(obj.sme_id, free_only=True),
        )

    @admin.display(description="decide")
    def decide(self, obj: Case) -> str:
        links = [(self._decision_url(obj, kind), label) for kind, label in self._decisions_open_to(obj)]
        return format_html_join(" · ", '<a href="{}">{}</a>', links) or "—"

    # --- Permissions: one permission to see and to act; the decision views are the only writes. ---

    def has_module_permission(self, request):
        return _can_review(request)

    def has_view_permission(self, request, obj=None):
        return _can_review(request)

    # --- The decision views. ---

    DECISIONS = {
        Case.Status.OPEN: [("disqualify", "Disqualify…"), ("dismiss", "Dismiss…")],
        Case.Status.DISQUALIFIED: [("reinstate", "Reinstate…")],
    }

    def _decisions_open_to(self, obj: Case) -> list[tuple[str, str]]:
        return self.DECISIONS.get(obj.status, [])

    def _decision_url(self, obj: Case, kind: str) -> str:
        return reverse(f"admin:sessions_app_freesessionreviewcase_{kind}", args=[obj.pk])

    def get_urls(self):
        def view(kind):
            return self.admin_site.admin_view(lambda request, object_id: self.decision_view(request, object_id, kind))

        own = [
            path(f"<path:object_id>/{kind}/", view(kind), name=f"sessions_app_freesessionreviewcase_{kind}")
            for kind in ("disqualify", "dismiss", "reinstate")
        ]
        return own + super().get_urls()  # first: the default URLs end with a catch-all

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        decisions = (
            [(self._decision_url(obj, kind), label) for kind, label in self._decisions_open_to(obj)] if obj else []
        )
        extra = {"decisions": decisions, "consultations_url": _consultations_url(obj.sme_id) if obj else ""}
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), **extra})

    def decision_view(self, request: HttpRequest, object_id: str, kind: str) -> HttpResponse:
        if not _can_review(request):
            raise PermissionDenied
        case = self.get_object(request, unquote(object_id))
        if case is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        change_url = reverse("admin:sessions_app_freesessionreviewcase_change", args=[case.pk])
        if kind not in dict(self._decisions_open_to(case)):
            self.message_user(
                request,
                f"This case is {case.get_status_display().lower()}: that decision is not open to it any more.",
                messages.ERROR,
            )
            return HttpResponseRedirect(change_url)
        form_class = DisqualifyForm if kind == "disqualify" else NoteForm
        form = form_class(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                if kind == "disqualify":
                    cancel = data["open_consultations"] == Case.OpenConsultations.CANCEL
                    case = review_disqualify(
                        case=case, actor=request.user, reason=data["reason"], cancel_open_consultations=cancel
                    )
                    done = f"Disqualified {case.sme}. Consultations cancelled: {case.cancelled_consultations}."
                elif kind == "dismiss":
                    review_dismiss(case=case, actor=request.user, note=data["note"])
                    done = f"Dismissed the case of {case.sme}, who keeps hosting."
                else:
                    sme_reinstate(sme=case.sme, actor=request.user, note=data["note"])
                    done = f"Reinstated {case.sme}, who can host again."
            except ValidationError as exc:
                form.add_error(None, exc)
            except ReviewError as exc:
                self.message_user(request, exc.message, messages.ERROR)
                return HttpResponseRedirect(change_url)
            else:
                self.message_user(request, done, messages.SUCCESS)
                return HttpResponseRedirect(change_url)
        titles = {
            "disqualify": f"Disqualify {case.sme}",
            "dismiss": f"Dismiss the case of {case.sme}",
            "reinstate": f"Reinstate {case.sme}",
        }
        pending = Consultation.objects.filter(sme=case.sme, state__in=Consultation.NOT_YET_LIVE_STATES)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": titles[kind],
            "case": case,
            "kind": kind,
            "form": form,
            "media": self.media + form.media,
            "change_url": change_url,
            "consultations_url": _consultations_url(case.sme_id),
            "pending_count": pending.count(),
            "submit_label": {"disqualify": "Disqualify", "dismiss": "Dismiss the case", "reinstate": "Reinstate"}[kind],
        }
        return TemplateResponse(request, "admin/sessions_app/freesessionreviewcase/decision.html", context)


# Payments and refunds have their own module; importing it registers them.
from . import payment_admin  # noqa: E402, F401
