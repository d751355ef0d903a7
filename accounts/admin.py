"""Django admin for accounts. Usernames are read-only once activated; audit rows are read-only always."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from .models import AuditEvent, SMEProfile, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ["username", "email", "role", "activated_at", "closed_at", "is_staff"]
    list_filter = ["role", "is_staff", "is_active"]
    fieldsets = DjangoUserAdmin.fieldsets + (
        ("InterKanect", {"fields": ("role", "activated_at", "closed_at", "closed_email")}),
    )
    readonly_fields = ["activated_at", "closed_at", "closed_email", "last_login", "date_joined"]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.activated_at is not None:
            # Fixed at activation; the model refuses a change too, this says so before anyone tries.
            fields.append("username")
        return fields


@admin.register(SMEProfile)
class SMEProfileAdmin(admin.ModelAdmin):
    list_display = ["display_name", "user", "headline", "disqualified_at"]
    search_fields = ["display_name", "user__username", "user__email"]
    readonly_fields = ["user", "disqualified_at", "disqualification_reason", "created_at"]

    def get_readonly_fields(self, request, obj=None):
        # The PayPal link changes only through payouts.services (Connect PayPal, disconnect), which audit it.
        paypal = ["paypal_email", "paypal_payer_id", "paypal_verified", "paypal_linked_at"]
        return [*super().get_readonly_fields(request, obj), *paypal]


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "event", "actor", "subject", "target_type", "target_id"]
    list_filter = ["event"]
    search_fields = ["subject__username", "actor__username", "target_id"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
