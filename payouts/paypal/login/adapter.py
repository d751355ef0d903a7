"""allauth's social-account hooks: "Log in with PayPal" links where an SME is paid; it never logs anyone in."""

from __future__ import annotations

from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.urls import reverse

from payouts import services


def _back_to_dashboard() -> ImmediateHttpResponse:
    return ImmediateHttpResponse(redirect(reverse("dashboard") + "#paypal"))


class PayPalLinkAdapter(DefaultSocialAccountAdapter):
    def pre_social_login(self, request, sociallogin) -> None:
        """PayPal has verified the account: store its e-mail and payer id on the SME's profile, then stop.

        Stopping here (allauth's documented way to take over) means allauth neither logs in, signs up,
        nor keeps a SocialAccount or PayPal's tokens: the SME's profile is the one record of the link.
        """
        if sociallogin.account.provider != "paypal":
            return super().pre_social_login(request, sociallogin)
        user = request.user
        if not user.is_authenticated:
            messages.error(request, "Log in with your InterKanect username first, then connect PayPal.")
            raise ImmediateHttpResponse(redirect("account_login"))
        if not user.is_sme or not hasattr(user, "sme_profile"):
            messages.error(request, "Only experts (SMEs) link a PayPal account: it is where they are paid.")
            raise _back_to_dashboard()
        data = sociallogin.account.extra_data or {}
        try:
            self.link_paypal(
                profile=user.sme_profile,
                email=str(data.get("email") or ""),
                payer_id=str(data.get("payer_id") or ""),
                actor=user,
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, "Your PayPal account is connected: payouts go to it.")
        raise _back_to_dashboard()

    def link_paypal(self, *, profile, email: str, payer_id: str, actor) -> None:
        """Store the verified link. The project level (interkanect.paypal_link) extends this with the
        review of a PayPal account shared with a disqualified SME, which payouts does not know about."""
        services.sme_paypal_connect(profile=profile, email=email, payer_id=payer_id, actor=actor)

    def on_authentication_error(self, request, provider, error=None, exception=None, extra_context=None) -> None:
        if getattr(provider, "id", None) != "paypal":
            return super().on_authentication_error(request, provider, error, exception, extra_context)
        if error == "cancelled":
            messages.info(request, "PayPal was not connected: you cancelled on PayPal's page.")
        else:
            # No detail from PayPal's answer: it may carry personal data.
            messages.error(request, "PayPal could not confirm your account just now. Try Connect PayPal again.")
        raise _back_to_dashboard()
