"""Administrator screens. Publishing a protocol change creates a new version through the service."""

from __future__ import annotations

from typing import Any

import yaml
from django import forms
from django.contrib import admin
from django.http import HttpRequest

from crisisdesk.calls.models import IntakeConflict, ProtocolVersion, RejectedRecord
from crisisdesk.calls.protocols import publish_protocol
from crisisdesk.domain.protocol import ProtocolError, parse_protocol


class PublishProtocolForm(forms.ModelForm):
    source_text = forms.CharField(
        label="Protocol (YAML)",
        widget=forms.Textarea(attrs={"rows": 40, "cols": 110, "spellcheck": "false"}),
        help_text="Edit the active version and give it a new version string. Check it against your test cards "
        "first: crisisdesk triage --batch cards.jsonl --protocol draft.yaml --check",
    )

    class Meta:
        model = ProtocolVersion
        fields = ["source_text", "change_note"]

    def clean_source_text(self) -> str:
        text = self.cleaned_data["source_text"]
        try:
            doc = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise forms.ValidationError(f"not valid YAML: {exc}") from None
        if not isinstance(doc, dict):
            raise forms.ValidationError("a protocol must be a mapping at the top level")
        try:
            protocol = parse_protocol(doc)
        except ProtocolError as exc:
            raise forms.ValidationError(exc.problems) from None
        if ProtocolVersion.objects.filter(center=protocol.center, version=protocol.version).exists():
            raise forms.ValidationError(
                f"version {protocol.version} exists: give the change a new version string"
            )
        return str(text)


@admin.register(ProtocolVersion)
class ProtocolVersionAdmin(admin.ModelAdmin):
    """Versions are immutable: an administrator adds a new one; old ones stay readable."""

    list_display = ["center", "version", "is_active", "published_at", "published_by", "change_note"]
    list_filter = ["center", "is_active"]
    form = PublishProtocolForm

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        if obj is not None:
            kwargs["form"] = forms.ModelForm
            kwargs["fields"] = []
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return []
        return [
            "center",
            "version",
            "is_active",
            "published_at",
            "published_by",
            "change_note",
            "source_text",
        ]

    def changeform_view(
        self, request: HttpRequest, object_id: Any = None, form_url: str = "", extra_context: Any = None
    ) -> Any:
        # The admin wraps this view in a transaction; publishing runs its own durable one (with its
        # audit row), which must not be nested. The form itself only reads.
        return self._changeform_view(request, object_id, form_url, extra_context)  # type: ignore[attr-defined]

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        active = ProtocolVersion.objects.filter(is_active=True).order_by("-published_at").first()
        return {"source_text": active.source_text} if active else {}

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if change:
            return  # nothing on a published version is editable
        row = publish_protocol(
            request.user,
            form.cleaned_data["source_text"],
            change_note=form.cleaned_data.get("change_note", ""),
        )
        obj.pk = row.pk
        obj.__dict__.update({k: v for k, v in row.__dict__.items() if not k.startswith("_")})


@admin.register(RejectedRecord)
class RejectedRecordAdmin(admin.ModelAdmin):
    """What the CAD sent that was refused: which fields and why, never the body itself.

    An administrator reads no call content (domain.permissions); the body stays in the database,
    kept for the integration's owner to replay once the sender is fixed."""

    list_display = ["received_at", "channel", "source", "incident_id"]
    fields = ("received_at", "channel", "source", "incident_id", "problems", "body_length", "received_by")
    readonly_fields = fields

    @admin.display(description="problems (field: reason)")
    def problems(self, obj: RejectedRecord) -> str:
        rows = obj.errors if isinstance(obj.errors, list) else []
        return "; ".join(
            f"{e.get('field', '?')}: {e.get('reason', e.get('msg', ''))}" for e in rows if isinstance(e, dict)
        )

    @admin.display(description="body length (characters)")
    def body_length(self, obj: RejectedRecord) -> int:
        return len(obj.body or "")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(IntakeConflict)
class IntakeConflictAdmin(admin.ModelAdmin):
    """Repeats of a known incident with a different payload: kept for a person to review."""

    list_display = ["received_at", "call_id", "payload_sha256", "resolved_at"]
    list_filter = ["resolved_at"]
    # The payloads are call content: the administrator sees that a conflict exists, not what it says.
    fields = ("call_id", "payload_sha256", "received_at", "received_by", "resolved_at")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
