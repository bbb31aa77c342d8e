from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from crisisdesk.accounts.models import ApiToken, User


@admin.register(User)
class CrisisDeskUserAdmin(UserAdmin):
    list_display = ["username", "first_name", "last_name", "role", "is_active"]
    list_filter = ["role", "is_active"]
    fieldsets = (*(UserAdmin.fieldsets or ()), ("Crisis Desk", {"fields": ("role",)}))
    add_fieldsets = (*(UserAdmin.add_fieldsets or ()), ("Crisis Desk", {"fields": ("role",)}))


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["token_hash", "created_at", "last_used_at"]
