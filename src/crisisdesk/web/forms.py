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
    reason = forms.CharField(
        label="Reason",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Say why the call goes back to 911."},
    )

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


# --- casework ---------------------------------------------------------------------------------
# Choices come from the domain's coded lists; the words are in views/case_words.py. Fields the
# services check themselves (a name or a phone, the close rules) are optional here on purpose, so
# that the page shows the service's answer (every close rule broken, not just the first).


class _Ids:
    """Element ids `<prefix>-<field>`: several forms share the case page, and ids must be unique."""

    id_prefix = "f"

    def __init__(self, *args: Any, **kwargs: Any):
        kwargs.setdefault("auto_id", f"{self.id_prefix}-%s")
        super().__init__(*args, **kwargs)


def coded_choices(
    codes: Iterable[str], text: dict[str, str], blank: str | None = None
) -> list[tuple[str, str]]:
    """(code, words) pairs for a ChoiceField, optionally after a blank first choice."""
    choices = [(c, text.get(c, c.replace("_", " "))) for c in codes]
    return ([("", blank)] if blank is not None else []) + choices


class PersonForm(_Ids, forms.Form):
    id_prefix = "person"

    relation = forms.ChoiceField(label="Relation to the case")
    given_name = forms.CharField(label="Given name", max_length=120, required=False)
    family_name = forms.CharField(label="Family name", max_length=120, required=False)
    date_of_birth = forms.DateField(
        label="Date of birth", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    phone = forms.CharField(label="Phone", max_length=40, required=False)
    address = forms.CharField(label="Address", max_length=255, required=False)
    language = forms.CharField(label="Language", max_length=64, required=False)

    def __init__(self, relations: Sequence[tuple[str, str]], *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["relation"].choices = relations  # type: ignore[attr-defined]


class LinkForm(forms.Form):
    other_id = forms.IntegerField(min_value=1, widget=forms.HiddenInput)


class ReasonForm(forms.Form):
    """A required reason: undoing a link, reopening a case."""

    reason = forms.CharField(
        label="Reason",
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "Give the reason."},
    )

    def clean_reason(self) -> str:
        reason = str(self.cleaned_data["reason"]).strip()
        if not reason:
            raise forms.ValidationError("Give the reason.")
        return reason


class CaseDetailsForm(_Ids, forms.Form):
    id_prefix = "details"

    concerns = forms.MultipleChoiceField(
        label="Presenting concerns", required=False, widget=forms.CheckboxSelectMultiple
    )
    language = forms.CharField(label="Language", max_length=64, required=False)
    interpreter_used = forms.BooleanField(label="Interpreter used", required=False)

    def __init__(self, concerns: Sequence[tuple[str, str]], *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["concerns"].choices = concerns  # type: ignore[attr-defined]


class InstrumentForm(forms.Form):
    """One field per question of an assessment instrument (domain.instruments), all optional here:
    the instrument's own validation says which answers are missing given its skip logic."""

    def __init__(self, questions: Sequence[Any], *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.questions = tuple(questions)
        for q in self.questions:
            self.fields[q.key] = forms.CharField(label=q.text, required=False, max_length=64)

    def answers(self) -> dict[str, str]:
        return {q.key: (self.cleaned_data.get(q.key) or "").strip() for q in self.questions}


class SafetyPlanForm(_Ids, forms.Form):
    id_prefix = "plan"

    def __init__(self, fields: Sequence[tuple[str, str]], *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        for key, label in fields:
            self.fields[key] = forms.CharField(
                label=label, max_length=4000, required=False, widget=forms.Textarea(attrs={"rows": 2})
            )


class NoteForm(_Ids, forms.Form):
    id_prefix = "note"

    kind = forms.ChoiceField(label="Kind of note")
    text = forms.CharField(
        label="Note",
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Write the note."},
    )
    # The social worker's explicit tag (never guessed from the text): see domain/part2.py.
    part2 = forms.BooleanField(label="About substance use (42 CFR Part 2)", required=False)

    def __init__(self, kinds: Sequence[tuple[str, str]], *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = kinds  # type: ignore[attr-defined]

    def clean_text(self) -> str:
        text = str(self.cleaned_data["text"])
        if not text.strip():
            raise forms.ValidationError("Write the note.")
        return text


class DeclinedForm(_Ids, forms.Form):
    id_prefix = "declined"

    note = forms.CharField(
        label="What was offered, and what the person said",
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "Say what was offered and what the person said."},
    )

    def clean_note(self) -> str:
        note = str(self.cleaned_data["note"]).strip()
        if not note:
            raise forms.ValidationError("Say what was offered and what the person said.")
        return note


class ConsentForm(_Ids, forms.Form):
    id_prefix = "consent"

    given_by = forms.CharField(label="Consent given by (name or role)", max_length=120)
    relation = forms.ChoiceField(label="Relation to the case")
    method = forms.ChoiceField(label="How they agreed")
    channel = forms.ChoiceField(label="Contact by")
    contact = forms.CharField(label="Number to contact", max_length=40)
    person_id = forms.TypedChoiceField(label="Person", coerce=int, required=False, empty_value=None)

    def __init__(
        self,
        relations: Sequence[tuple[str, str]],
        methods: Sequence[tuple[str, str]],
        channels: Sequence[tuple[str, str]],
        people: Sequence[tuple[str, str]],
        *args: Any,
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        self.fields["relation"].choices = relations  # type: ignore[attr-defined]
        self.fields["method"].choices = methods  # type: ignore[attr-defined]
        self.fields["channel"].choices = channels  # type: ignore[attr-defined]
        self.fields["person_id"].choices = [("", "Not one of the people above"), *people]  # type: ignore[attr-defined]


class ScheduleForm(forms.Form):
    consent_id = forms.IntegerField(min_value=1, widget=forms.HiddenInput)


class CloseForm(_Ids, forms.Form):
    """Both optional here: the close rules (domain.cases.close_check) report every problem at once."""

    id_prefix = "close"

    disposition = forms.CharField(label="Disposition", max_length=32, required=False)
    reason = forms.CharField(
        label="Why the case is closing",
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class NewCaseForm(_Ids, forms.Form):
    id_prefix = "newcase"

    note = forms.CharField(
        label="Note (who to call back, why)",
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class AttemptForm(forms.Form):
    channel = forms.ChoiceField(label="How")
    outcome = forms.ChoiceField(label="Outcome")
    notes = forms.CharField(
        label="Notes", max_length=4000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(
        self,
        channels: Sequence[tuple[str, str]],
        outcomes: Sequence[tuple[str, str]],
        *args: Any,
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        self.fields["channel"].choices = channels  # type: ignore[attr-defined]
        self.fields["outcome"].choices = outcomes  # type: ignore[attr-defined]
