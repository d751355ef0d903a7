"""The room page: the call itself runs in the browser (static/js/room/)."""

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from payouts.paypal.web import paypal_form_action
from sessions_app.selectors import room_admission

REFUSAL_STATUS = {"not_found": 404, "not_member": 403, "closed": 410, "sme_not_allowed": 403, "not_ready": 409}


@paypal_form_action  # a client waiting for the room may pay from its page
def room(request: HttpRequest, token: str) -> HttpResponse:
    admission = room_admission(token=token, user=request.user)
    if admission.code == "login":
        return redirect_to_login(request.get_full_path())
    if not admission.allowed:
        return render(
            request,
            "signaling/room_refused.html",
            {"admission": admission},
            status=REFUSAL_STATUS.get(admission.code, 403),
        )
    consultation = admission.consultation
    profile = consultation.sme.sme_profile
    # The name each side shows for the other person.
    peer_name = consultation.client.username if admission.role == "sme" else (profile.display_name or "your expert")
    return render(
        request,
        "signaling/room.html",
        {"consultation": consultation, "role": admission.role, "profile": profile, "peer_name": peer_name},
    )
