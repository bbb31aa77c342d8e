"""Administrator screen for the retention policy: a change publishes a new version through the service."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from crisisdesk.calls.errors import ServiceError
from crisisdesk.domain.retention import RECORD_TYPES, RetentionPolicyError, parse_policy
from crisisdesk.retention.models import RetentionPolicyVersion, RetentionRule
from crisisdesk.retention.services import policy_from_row, publish_retention_policy


def _days(key: str) -> str:
    return f"{key}__days"


def _from(key: str) -> str:
    return f"{key}__counted_from"


def _basis(key: str) -> str:
    return f"{key}__basis"


class PublishRetentionForm(forms.ModelForm):
    """One period (and, where a type has a choice, its starting instant) per record type."""

    version = forms.CharField(max_length=32, help_text="A new version string, e.g. retention-2027-01.")

    class Meta:
        model = RetentionPolicyVersion
        fields = ["change_note"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for rtype in RECORD_TYPES:
            help_text = f"Days {rtype.label} records are kept."
            if rtype.min_days:
                help_text += f" At least {rtype.min_days} (six years)."
            if rtype.deleted_by == "audit":
                help_text += " Deleted by the audit module only (the chain stays verifiable)."
            self.fields[_days(rtype.key)] = forms.IntegerField(
                label=f"{rtype.key}: days", min_value=rtype.min_days, help_text=help_text
            )
            self.fields[_from(rtype.key)] = forms.ChoiceField(
                label=f"{rtype.key}: counted from", choices=[(a, a) for a in rtype.anchors]
            )
            self.fields[_basis(rtype.key)] = forms.CharField(
                label=f"{rtype.key}: basis",
                required=False,
                max_length=1000,
                help_text="The schedule, rule or agreement the period comes from.",
            )

    def document(self) -> dict[str, Any]:
        return {
            "version": self.cleaned_data["version"],
            "rules": {
                t.key: {
                    "days": self.cleaned_data[_days(t.key)],
                    "counted_from": self.cleaned_data[_from(t.key)],
                    "basis": self.cleaned_data.get(_basis(t.key), ""),
                }
                for t in RECORD_TYPES
            },
        }

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned
        try:
            parse_policy(self.document())
        except RetentionPolicyError as exc:
            raise forms.ValidationError(exc.problems) from None
        if RetentionPolicyVersion.objects.filter(version=cleaned["version"]).exists():
            raise forms.ValidationError("that version exists: give the change a new version string")
        if not (cleaned.get("change_note") or "").strip():
            raise forms.ValidationError("say why the retention policy changes (e.g. the schedule it follows)")
        return cleaned


class RuleInline(admin.TabularInline):
    model = RetentionRule
    fields = ("record_type", "days", "counted_from", "basis")
    readonly_fields = ("record_type", "days", "counted_from", "basis")
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(RetentionPolicyVersion)
class RetentionPolicyAdmin(admin.ModelAdmin):
    """Versions are immutable; every purge's audit rows name the version that decided it."""

    list_display = ["version", "is_active", "created_at", "created_by", "change_note"]
    form = PublishRetentionForm

    def get_inlines(self, request: HttpRequest, obj: Any) -> Any:
        return [RuleInline] if obj is not None else []

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        if obj is not None:
            kwargs["form"] = forms.ModelForm
            kwargs["fields"] = []
            return super().get_form(request, obj, change=change, **kwargs)
        # The per-type fields are added by the form itself; the admin must not look for them on the model.
        kwargs["fields"] = ["change_note"]
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is not None:
            return [(None, {"fields": ["version", "is_active", "created_at", "created_by", "change_note"]})]
        per_type = [(_days(t.key), _from(t.key), _basis(t.key)) for t in RECORD_TYPES]
        return [(None, {"fields": ["version", *per_type, "change_note"]})]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return [] if obj is None else ["version", "is_active", "created_at", "created_by", "change_note"]

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        active = RetentionPolicyVersion.objects.filter(is_active=True).first()
        if active is None:
            return {}
        initial: dict[str, Any] = {}
        for key, rule in policy_from_row(active).rules.items():
            initial[_days(key)] = rule.days
            initial[_from(key)] = rule.counted_from
            initial[_basis(key)] = rule.basis
        return initial

    def changeform_view(
        self, request: HttpRequest, object_id: Any = None, form_url: str = "", extra_context: Any = None
    ) -> Any:
        # Publishing runs its own durable transaction (with its audit row): not inside the admin's.
        return self._changeform_view(request, object_id, form_url, extra_context)  # type: ignore[attr-defined]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if change:
            return
        try:
            row = publish_retention_policy(request.user, form.document(), form.cleaned_data["change_note"])
        except ServiceError as exc:  # e.g. a non-administrator with admin access
            raise PermissionError(exc.message) from None
        obj.pk = row.pk
        obj.__dict__.update({k: v for k, v in row.__dict__.items() if not k.startswith("_")})

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        # The rules are written by the service with the version; there is nothing else to save.
        return None
