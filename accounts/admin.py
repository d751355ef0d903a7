"""Django admin for accounts. Usernames are read-only once activated; audit rows are read-only always."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm

from .models import AuditEvent, SMEProfile, User
from .usernames import username_validate


class _UsernameRulesMixin:
    def clean_username(self):
        # The project's one set of rules (accounts/usernames.py), as on sign-up and the activation page.
        username = self.cleaned_data.get("username")
        if username:
            username_validate(username, exclude_pk=self.instance.pk)
        return username


class UserCreationAdminForm(_UsernameRulesMixin, AdminUserCreationForm):
    class Meta(AdminUserCreationForm.Meta):
        model = User


class UserChangeAdminForm(_UsernameRulesMixin, UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = UserChangeAdminForm
    add_form = UserCreationAdminForm
    list_display = ["username", "email", "role", "activated_at", "closed_at", "is_staff"]
    list_filter = ["role", "is_staff", "is_active"]
    fieldsets = DjangoUserAdmin.fieldsets + (
        ("InterKanect", {"fields": ("role", "activated_at", "closed_at", "closed_email")}),
    )
    readonly_fields = ["activated_at", "closed_at", "closed_email", "last_login", "date_joined"]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.activated_at is not None:
            # Fixed at activation (the model refuses a change too; this says so before anyone tries), and
            # so is the role: an SME's consultations, ledger and profile hang on it.
            fields += ["fixed_username", "role"]
        return fields

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or obj.activated_at is None:
            return fieldsets
        # The read-only username shows no "how to choose a username" help: nobody can choose it any more.
        return [
            (name, {**opts, "fields": tuple("fixed_username" if f == "username" else f for f in opts["fields"])})
            for name, opts in fieldsets
        ]

    @admin.display(description="Username")
    def fixed_username(self, obj: User) -> str:
        return f"{obj.username} (fixed since activation)"


@admin.register(SMEProfile)
class SMEProfileAdmin(admin.ModelAdmin):
    list_display = ["display_name", "user", "headline", "disqualified_at"]
    search_fields = ["display_name", "user__username", "user__email"]
    readonly_fields = ["user", "disqualified_at", "disqualification_reason", "created_at"]

    def get_readonly_fields(self, request, obj=None):
        # The PayPal link changes only through payouts.services (Connect PayPal, disconnect), which audit it.
        paypal = ["paypal_email", "paypal_payer_id", "paypal_verified", "paypal_linked_at"]
        return [*super().get_readonly_fields(request, obj), *paypal]


class ReadOnlyAdmin(admin.ModelAdmin):
    """A record that changes only through its services (audited): staff read it here, never edit it."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "event", "actor", "subject", "target_type", "target_id"]
    list_filter = ["event"]
    search_fields = ["subject__username", "actor__username", "target_id"]
