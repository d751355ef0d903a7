from django.urls import path, re_path

from . import views

urlpatterns = [
    # Ours first: they extend allauth's views of the same names.
    path("signup/", views.SignupView.as_view(), name="account_signup"),
    path("confirm-email/", views.EmailVerificationSentView.as_view(), name="account_email_verification_sent"),
    re_path(r"^confirm-email/(?P<key>[-:\w]+)/$", views.ConfirmEmailView.as_view(), name="account_confirm_email"),
    path("profile/", views.profile, name="account_profile"),
]
