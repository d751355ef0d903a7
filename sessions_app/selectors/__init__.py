"""Reads about consultations worth a name, by concern: consultations and their lists, the room, free sessions."""

from .consultations import (
    PAST_SHOWN,
    TOKEN_SHAPE,
    ConsultationLists,
    consultation_by_token,
    consultation_can_cancel,
    consultations_for_client,
    consultations_for_sme,
)
from .free_sessions import (
    FreeSessionFigures,
    FreeSessionLimits,
    FreeSessionStanding,
    free_session_candidates,
    free_session_figures,
    sme_free_session_standing,
)
from .payments import (
    client_has_payment_due,
    consultation_is_paid,
    consultation_payment,
    earnings_for_sme,
    payment_due,
    payment_that_counts,
    payments_for_client,
    payments_prefetch,
)
from .room import RoomAdmission, room_admission, room_timer_state

__all__ = [
    "PAST_SHOWN",
    "TOKEN_SHAPE",
    "ConsultationLists",
    "FreeSessionFigures",
    "FreeSessionLimits",
    "FreeSessionStanding",
    "RoomAdmission",
    "client_has_payment_due",
    "consultation_is_paid",
    "consultation_payment",
    "earnings_for_sme",
    "payment_due",
    "payment_that_counts",
    "payments_prefetch",
    "payments_for_client",
    "consultation_by_token",
    "consultation_can_cancel",
    "consultations_for_client",
    "consultations_for_sme",
    "free_session_candidates",
    "free_session_figures",
    "room_admission",
    "room_timer_state",
    "sme_free_session_standing",
]
