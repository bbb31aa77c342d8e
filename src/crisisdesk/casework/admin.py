"""Administrator screen for the follow-up policy: a change publishes a new version through the service."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from crisisdesk.casework.models import FollowUpPolicyVersion
from crisisdesk.casework.services import publish_follow_up_policy
from crisisdesk.domain.followups import FollowUpPolicyError, parse_policy


class PublishPolicyForm(forms.ModelForm):
    version = forms.CharField(max_length=32, help_text="A new version string, e.g. followup-2027-01.")
    first_within_hours = forms.FloatField(
        min_value=0.25, help_text="First attempt within this many hours of the call."
    )
    max_attempts = forms.IntegerField(min_value=1, max_value=10)
    last_within_hours = forms.FloatField(
        min_value=0.25, help_text="Last attempt within this many hours of the call."
    )

    class Meta:
        model = FollowUpPolicyVersion
        fields = ["change_note"]

    def document(self) -> dict[str, Any]:
        keys = ("version", "first_within_hours", "max_attempts", "last_within_hours")
        return {k: self.cleaned_data[k] for k in keys}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned
        try:
            parse_policy(self.document())
        except FollowUpPolicyError as exc:
            raise forms.ValidationError(str(exc)) from None
        if FollowUpPolicyVersion.objects.filter(version=cleaned["version"]).exists():
            raise forms.ValidationError("that version exists: give the change a new version string")
        if not (cleaned.get("change_note") or "").strip():
            raise forms.ValidationError("say why the policy changes")
        return cleaned


@admin.register(FollowUpPolicyVersion)
class FollowUpPolicyAdmin(admin.ModelAdmin):
    """Versions are immutable; each follow-up keeps the version it was planned with."""

    list_display = ["version", "is_active", "document", "created_at", "created_by", "change_note"]
    form = PublishPolicyForm

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        if obj is not None:
            kwargs["form"] = forms.ModelForm
            kwargs["fields"] = []
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ["version", "first_within_hours", "max_attempts", "last_within_hours", "change_note"]
        return ["version", "document", "is_active", "created_at", "created_by", "change_note"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return [] if obj is None else self.get_fields(request, obj)

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        active = FollowUpPolicyVersion.objects.filter(is_active=True).first()
        return dict(active.document) if active else {}

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
        row = publish_follow_up_policy(request.user, form.document(), form.cleaned_data["change_note"])
        obj.pk = row.pk
        obj.__dict__.update({k: v for k, v in row.__dict__.items() if not k.startswith("_")})
