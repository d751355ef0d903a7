"""The room page: the call itself runs in the browser (static/js/room/)."""

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from payouts.paypal.web import allow_paypal_forms
from sessions_app.selectors import payment_due, room_admission
from sessions_app.services import MAX_EXTENSION_MINUTES

from . import messages

# What the room's JavaScript needs to know of the server's rules, given to the page (json_script) from
# the Python that owns them instead of a second copy in JS.
ROOM_CONTRACT = {
    "close": {
        "replaced": messages.CLOSE_REPLACED,
        "too_fast": messages.CLOSE_TOO_FAST,
        "too_many_errors": messages.CLOSE_TOO_MANY_ERRORS,
        "ended": messages.CLOSE_ENDED,
        "refused": messages.CLOSE_REFUSED,
    },
    # Every close code of ours says why the server closed for good: reconnecting would not help.
    "final_close_codes": sorted(
        {
            messages.CLOSE_REPLACED,
            messages.CLOSE_TOO_FAST,
            messages.CLOSE_TOO_MANY_ERRORS,
            messages.CLOSE_ENDED,
            *messages.CLOSE_REFUSED.values(),
        }
    ),
    "extension_minutes": {"min": 1, "max": MAX_EXTENSION_MINUTES},
}

REFUSAL_STATUS = {"not_found": 404, "not_member": 403, "closed": 410, "sme_not_allowed": 403, "not_ready": 409}


def room(request: HttpRequest, token: str) -> HttpResponse:
    admission = room_admission(token=token, user=request.user)
    if admission.code == "login":
        return redirect_to_login(request.get_full_path())
    if not admission.allowed:
        response = render(
            request,
            "signaling/room_refused.html",
            {"admission": admission},
            status=REFUSAL_STATUS.get(admission.code, 403),
        )
        if admission.consultation is not None and payment_due(consultation=admission.consultation, user=request.user):
            allow_paypal_forms(response)  # its client may pay from here ("Pay with PayPal" leads to PayPal)
        return response
    consultation = admission.consultation
    profile = consultation.sme.sme_profile
    # The name each side shows for the other person.
    peer_name = consultation.client.username if admission.role == "sme" else (profile.display_name or "your expert")
    return render(
        request,
        "signaling/room.html",
        {
            "consultation": consultation,
            "role": admission.role,
            "profile": profile,
            "peer_name": peer_name,
            "room_contract": ROOM_CONTRACT,
        },
    )
