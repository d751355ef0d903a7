"""Template helpers for consultation pages, lists and e-mails: prices, local times, links. They only format:
the views gather what a page shows."""

from __future__ import annotations

from datetime import UTC, datetime

from django import template
from django.utils.html import format_html

from payouts.templatetags.money import money
from sessions_app import selectors
from sessions_app.models import Consultation

register = template.Library()


@register.filter
def price_label(consultation: Consultation) -> str:
    return "Free" if consultation.is_free else money(consultation.price_cents, consultation.currency)


@register.simple_tag
def local_time(moment: datetime | None, empty: str = "Not scheduled"):
    """A <time> in UTC that static/js/local-time.js rewrites in the viewer's own time zone."""
    if moment is None:
        return empty
    utc = moment.astimezone(UTC)
    return format_html(
        '<time datetime="{}" data-local-time>{}</time>',
        utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
        utc.strftime("%a %d %b %Y, %H:%M UTC"),
    )


@register.simple_tag(takes_context=True)
def join_url(context, consultation: Consultation) -> str:
    request = context.get("request")
    path = consultation.get_absolute_url()
    return request.build_absolute_uri(path) if request is not None else path


@register.filter
def can_cancel(consultation: Consultation, user) -> bool:
    return selectors.consultation_can_cancel(consultation=consultation, user=user)


@register.simple_tag
def consultation_payment_state(consultation: Consultation) -> str:
    """The state of the consultation's live payment ("" if none), for lists (payments prefetched by the list)."""
    payment = selectors.payment_that_counts(consultation.payments.all())
    return payment.state if payment is not None else ""


@register.simple_tag
def consultation_money_line(consultation: Consultation, viewer: str) -> str:
    """One sentence of what happened to a priced consultation's money, for the viewer's list ("" if nothing)."""
    payment = selectors.payment_that_counts(consultation.payments.all())
    if payment is None or payment.state != "captured":
        if consultation.is_closed and viewer == "client" and consultation.client_id:
            return "Not charged."
        return ""
    amount = money(payment.amount_cents, payment.currency)
    refund = getattr(payment, "refund", None) if hasattr(payment, "refund") else None
    if refund is not None:
        if refund.state == "completed":
            return f"Paid {amount}, refunded in full." if viewer == "client" else f"Client refunded {amount}."
        return (
            f"Paid {amount}; refund of {amount} on its way."
            if viewer == "client"
            else f"Client refund of {amount} under way."
        )
    if viewer == "client":
        return f"Paid {amount} through PayPal."
    if payment.earning_cents is not None:
        fee = money(payment.platform_fee_cents or 0, payment.currency)
        return f"Earned {money(payment.earning_cents, payment.currency)} ({amount} less {fee} platform fee)."
    return f"Paid by the client: {amount}."
