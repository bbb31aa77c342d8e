"""Forms of the pages. They only parse and check input; the services decide and write."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django import forms

from crisisdesk.domain.protocol import FallbackOption, Question

YES_NO = [("yes", "Yes"), ("no", "No")]
_ANSWER = {"yes": True, "no": False}


class ScreeningForm(forms.Form):
    """One Yes/No question per protocol question. Leaving one unanswered is allowed on purpose:
    the protocol then decides `screening_incomplete` (never a transfer), and the record shows it."""

    def __init__(self, questions: Sequence[Question], *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.questions = tuple(questions)
        for q in self.questions:
            self.fields[q.id] = forms.ChoiceField(
                label=q.text, choices=YES_NO, required=False, widget=forms.RadioSelect, help_text=q.help
            )

    @staticmethod
    def initial_from(answers: dict[str, bool | None] | None) -> dict[str, str]:
        out: dict[str, str] = {}
        for qid, value in (answers or {}).items():
            if value is True:
                out[qid] = "yes"
            elif value is False:
                out[qid] = "no"
        return out

    def answers(self) -> dict[str, bool | None]:
        return {q.id: _ANSWER.get(self.cleaned_data.get(q.id) or "") for q in self.questions}

    def rows(self) -> list[dict[str, Any]]:
        """What the template needs per question: text, help, kind and the current choice."""
        rows = []
        for number, q in enumerate(self.questions, start=1):
            bound = self[q.id]
            rows.append(
                {
                    "number": number,
                    "id": q.id,
                    "text": q.text,
                    "help": q.help,
                    "kind": q.kind.value,
                    "value": bound.value() or "",
                    "errors": bound.errors,
                }
            )
        return rows


class ManualCallForm(forms.Form):
    """A call the telecommunicator enters by hand (the CAD did not send it)."""

    incident_id = forms.CharField(label="Incident id", max_length=64)
    call_type = forms.CharField(label="Call type", max_length=128)
    address = forms.CharField(label="Address", max_length=255, required=False)
    caller_phone = forms.CharField(label="Caller phone", max_length=32, required=False)

    def clean_incident_id(self) -> str:
        return str(self.cleaned_data["incident_id"]).strip()

    def clean_call_type(self) -> str:
        return " ".join(str(self.cleaned_data["call_type"]).split())


class FallbackForm(forms.Form):
    """The fallback the telecommunicator took; callback options need a number to call back."""

    option = forms.ChoiceField(label="Fallback taken", widget=forms.RadioSelect)
    callback_number = forms.CharField(label="Callback number", max_length=32, required=False)
    note = forms.CharField(
        label="Note", max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    transfer_id = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, options: Iterable[FallbackOption], *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.options = tuple(options)
        self.fields["option"].choices = [(o.id, o.label) for o in self.options]  # type: ignore[attr-defined]
        self.has_callback = any(o.id.startswith("callback") for o in self.options)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        option = data.get("option") or ""
        if option.startswith("callback") and not (data.get("callback_number") or "").strip():
            self.add_error("callback_number", "A callback needs the number to call back.")
        return data


class EscalateForm(forms.Form):
    """Send a claimed call back to 911 in one step."""

    RESPONDERS = [("police", "Police"), ("fire", "Fire"), ("ems", "EMS")]
    responder = forms.ChoiceField(label="Responder needed", choices=RESPONDERS, widget=forms.RadioSelect)
    reason = forms.CharField(label="Reason", max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))

    def clean_reason(self) -> str:
        reason = str(self.cleaned_data["reason"]).strip()
        if not reason:
            raise forms.ValidationError("Say why the call goes back to 911.")
        return reason


class CompleteForm(forms.Form):
    note = forms.CharField(
        label="Closing note", max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class AvailabilityForm(forms.Form):
    status = forms.ChoiceField(choices=[("available", "Available"), ("busy", "Busy"), ("away", "Away")])
