from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest

from crisisdesk.accounts.models import AccountLock, ApiToken, LoginFailure, LoginSession, User
from crisisdesk.accounts.services import disable_account, unlock_account

ADMIN_DISABLE_REASON = "disabled in the admin site"


@admin.register(User)
class CrisisDeskUserAdmin(UserAdmin):
    list_display = ["username", "first_name", "last_name", "role", "is_active"]
    list_filter = ["role", "is_active"]
    fieldsets = (*(UserAdmin.fieldsets or ()), ("Crisis Desk", {"fields": ("role",)}))
    add_fieldsets = (*(UserAdmin.add_fieldsets or ()), ("Crisis Desk", {"fields": ("role",)}))
    actions = ["disable_accounts", "unlock_accounts"]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if change and "is_active" in form.changed_data and not obj.is_active:
            # The admin saves inside its own transaction; disabling (which ends every session of
            # the account, audited) runs once that has committed.
            actor, user_id = request.user, obj.pk
            transaction.on_commit(lambda: disable_account(actor, user_id, ADMIN_DISABLE_REASON))

    @admin.action(description="Disable the selected accounts (ends all their sessions)")
    def disable_accounts(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        ended = sum(
            disable_account(request.user, pk, ADMIN_DISABLE_REASON)
            for pk in queryset.values_list("pk", flat=True)
        )
        self.message_user(request, f"Disabled {queryset.count()} account(s); {ended} session(s) ended.")

    @admin.action(description="Unlock the selected accounts")
    def unlock_accounts(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        released = [unlock_account(request.user, pk) for pk in queryset.values_list("pk", flat=True)]
        count = sum(1 for lock in released if lock is not None)
        self.message_user(request, f"Unlocked {count} account(s).", messages.SUCCESS)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["token_hash", "created_at", "last_used_at"]


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records the sign-in services keep; the admin shows them and never edits them."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(LoginSession)
class LoginSessionAdmin(ReadOnlyAdmin):
    list_display = ["user", "created_at", "last_activity_at", "ended_at", "end_reason", "client_addr"]
    list_filter = ["end_reason"]
    exclude = ["session_key"]


@admin.register(AccountLock)
class AccountLockAdmin(ReadOnlyAdmin):
    list_display = ["user", "locked_at", "failures", "unlocked_at", "unlocked_by"]


@admin.register(LoginFailure)
class LoginFailureAdmin(ReadOnlyAdmin):
    list_display = ["at", "user", "client_addr", "step", "reason"]
    list_filter = ["step", "reason"]
