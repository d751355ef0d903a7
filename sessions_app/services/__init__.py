"""Every write to consultations, by concern: the lifecycle, room presence, housekeeping and the free-session policy.

Callers import from here; the modules below depend one way: common ← lifecycle ← free_sessions ← room,
and housekeeping on lifecycle.
"""

from .common import ConsultationError
from .free_sessions import (
    CANCEL_REASON,
    REVIEW_PERMISSION,
    PolicyEvaluation,
    ReviewError,
    policy_evaluate_after_live,
    policy_evaluate_due,
    policy_evaluate_sme,
    review_dismiss,
    review_disqualify,
    sme_reinstate,
)
from .housekeeping import consultations_complete_due, consultations_expire_due, consultations_remind_due
from .lifecycle import (
    MAX_EXTENSION_MINUTES,
    MAX_MINUTES,
    MAX_PRICE_CENTS,
    MAX_SCHEDULE_DAYS,
    START_PASSED,
    START_TOO_FAR,
    consultation_cancel,
    consultation_claim,
    consultation_complete,
    consultation_create,
    consultation_credit_earning,
    consultation_expire,
    consultation_extension_answer,
    consultation_extension_propose,
    consultation_mark_ready,
    consultations_cancel_for_closed_sme,
    scheduled_start_problem,
)
from .room import RoomJoin, consultation_go_live, room_member_connect, room_member_disconnect

__all__ = [
    "CANCEL_REASON",
    "MAX_EXTENSION_MINUTES",
    "MAX_MINUTES",
    "MAX_PRICE_CENTS",
    "MAX_SCHEDULE_DAYS",
    "REVIEW_PERMISSION",
    "START_PASSED",
    "START_TOO_FAR",
    "ConsultationError",
    "PolicyEvaluation",
    "ReviewError",
    "RoomJoin",
    "consultation_cancel",
    "consultation_claim",
    "consultation_complete",
    "consultation_create",
    "consultation_credit_earning",
    "consultation_expire",
    "consultation_extension_answer",
    "consultation_extension_propose",
    "consultation_go_live",
    "consultation_mark_ready",
    "consultations_cancel_for_closed_sme",
    "consultations_complete_due",
    "consultations_expire_due",
    "consultations_remind_due",
    "policy_evaluate_after_live",
    "policy_evaluate_due",
    "policy_evaluate_sme",
    "review_disqualify",
    "room_member_connect",
    "room_member_disconnect",
    "review_dismiss",
    "scheduled_start_problem",
    "sme_reinstate",
]
