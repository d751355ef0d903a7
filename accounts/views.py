"""Account pages: sign-up and activation (allauth, extended), and the profile."""

from __future__ import annotations

from allauth.account import views as allauth_views
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.decorators import method_decorator
from django.views.decorators.http import require_http_methods

from . import services
from .adapters import ACTIVATION_LINK_SENT_SESSION_KEY
from .forms import CorrectUsernameForm, SMEProfileForm
from .models import User


@method_decorator(transaction.atomic, name="dispatch")
class SignupView(allauth_views.SignupView):
    """allauth's sign-up, all or nothing: if the confirmation e-mail cannot be sent, no account is left."""

    def get_initial(self):
        initial = super().get_initial()
        role = self.request.GET.get("role")
        if role in User.Role.values:
            initial["role"] = role
        return initial


class ConfirmEmailView(allauth_views.ConfirmEmailView):
    """The activation page: the last moment the username can be corrected."""

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        if self.object:
            user = self.object.email_address.user
            ctx.setdefault("username_form", CorrectUsernameForm(initial={"username": user.username}))
            ctx["account_user"] = user
        return ctx

    def post(self, *args, **kwargs):
        self.object = self.get_object()
        user = self.object.email_address.user
        form = CorrectUsernameForm(self.request.POST or None, initial={"username": user.username})
        if user.activated_at is None and form.is_bound:
            if not form.is_valid():
                return self.render_to_response(self.get_context_data(username_form=form))
            try:
                services.user_rename_before_activation(user=user, username=form.cleaned_data["username"])
            except ValidationError as exc:
                form.add_error("username", exc)
                return self.render_to_response(self.get_context_data(username_form=form))
        return super().post(*args, **kwargs)


class EmailVerificationSentView(allauth_views.EmailVerificationSentView):
    """ "Check your e-mail", true to what happened: a link went out, or none did (allauth's cooldown)."""

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["link_sent"] = self.request.session.pop(ACTIVATION_LINK_SENT_SESSION_KEY, True)
        # allauth's own default: at most one activation e-mail per address every 3 minutes.
        cooldown = getattr(settings, "ACCOUNT_EMAIL_CONFIRMATION_COOLDOWN", 180)
        ctx["cooldown_minutes"] = max(1, round(cooldown / 60))
        return ctx


@login_required
@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    user: User = request.user
    form = None
    if user.is_sme:
        form = SMEProfileForm(request.POST or None, instance=user.sme_profile)
        if request.method == "POST" and form.is_valid():
            services.sme_profile_update(
                profile=user.sme_profile,
                display_name=form.cleaned_data["display_name"],
                headline=form.cleaned_data["headline"],
            )
            messages.success(request, "Your profile is saved.")
            return redirect("account_profile")
    return render(request, "accounts/profile.html", {"form": form})
