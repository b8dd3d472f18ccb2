"""Forms of the catalog pages; every control has a visible label."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from catalog.models import (
    LABEL_PATTERN,
    MAX_ATTRIBUTE_KEY,
    MAX_ATTRIBUTE_VALUE,
    MAX_ATTRIBUTES,
    MAX_DESCRIPTION,
    MAX_LABEL,
    MAX_LABELS,
    MAX_MODEL_NAME,
    MAX_URI,
    MAX_VERSION_NAME,
    VERSION_NAME_PATTERN,
    DataType,
    ModelVersion,
    RegisteredModel,
    TaskType,
    Visibility,
)
from catalog.permissions import Role
from catalog.services import RESERVED_NAMES


def parse_labels(text: str) -> list[str]:
    """Split "nlp, vision" into sorted unique lowercase names; raises forms.ValidationError on bad names."""
    names = sorted({part.strip().lower() for part in text.split(",") if part.strip()})
    bad = [name for name in names if not re.match(LABEL_PATTERN, name)]
    if bad:
        raise forms.ValidationError(
            f"Labels are 1–{MAX_LABEL} characters: lowercase letters, digits, '.', '_' or '-', starting with a letter "
            "or digit. Not valid: %(bad)s",
            params={"bad": ", ".join(bad[:5])},
        )
    if len(names) > MAX_LABELS:
        raise forms.ValidationError(f"At most {MAX_LABELS} labels.")
    return names


def parse_attributes(text: str) -> dict[str, str]:
    """Parse one "key = value" pair per line; raises forms.ValidationError naming the bad line."""
    attributes: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        key, sep, value = line.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key:
            raise forms.ValidationError(f"Line {number}: write each attribute as “key = value”.")
        if len(key) > MAX_ATTRIBUTE_KEY or len(value) > MAX_ATTRIBUTE_VALUE:
            raise forms.ValidationError(
                f"Line {number}: keys are at most {MAX_ATTRIBUTE_KEY} characters, values {MAX_ATTRIBUTE_VALUE}."
            )
        if key in attributes:
            raise forms.ValidationError(f"Line {number}: “{key}” appears twice.")
        attributes[key] = value
    if len(attributes) > MAX_ATTRIBUTES:
        raise forms.ValidationError(f"At most {MAX_ATTRIBUTES} attributes.")
    return attributes


def format_attributes(attributes: dict[str, Any]) -> str:
    return "\n".join(f"{key} = {value}" for key, value in attributes.items())


def attributes_field() -> forms.CharField:
    return forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": "framework = pytorch\naccuracy = 0.94"}),
        required=False,
        max_length=MAX_ATTRIBUTES * (MAX_ATTRIBUTE_KEY + MAX_ATTRIBUTE_VALUE + 4),  # every line, "key = value\n"
        help_text="One “key = value” per line.",
    )


class LabelsField(forms.CharField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", MAX_LABELS * (MAX_LABEL + 2))  # every label, each with ", "
        kwargs.setdefault("help_text", "Comma-separated, e.g. nlp, churn, team-search")
        super().__init__(**kwargs)

    def clean(self, value: Any) -> list[str]:
        return parse_labels(super().clean(value))


MAX_REVIEWERS = 20  # named at once when registering a model; the Collaborators tab takes more


class ModelRegisterForm(forms.Form):
    name = forms.CharField(
        max_length=MAX_MODEL_NAME, help_text=f"Unique in the catalog, 1–{MAX_MODEL_NAME} characters."
    )
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False, max_length=MAX_DESCRIPTION)
    labels = LabelsField()
    task_type = forms.ChoiceField(label="Task type", choices=TaskType.choices, initial=TaskType.UNKNOWN)
    data_type = forms.ChoiceField(label="Data type", choices=DataType.choices, initial=DataType.UNKNOWN)
    visibility = forms.ChoiceField(
        choices=Visibility.choices, initial=Visibility.ORGANIZATION, widget=forms.RadioSelect
    )
    reviewers = forms.CharField(
        label="Reviewers",
        required=False,
        max_length=MAX_REVIEWERS * 152,
        help_text="Usernames, comma-separated: they get the Reviewer role and can approve stage changes "
        "(you cannot approve your own requests).",
    )
    reviewer_groups = forms.CharField(
        label="Reviewer groups",
        required=False,
        max_length=MAX_REVIEWERS * 152,
        help_text="Group names, comma-separated: every member gets the Reviewer role.",
    )

    def __init__(self, *args: Any, actor: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.actor = actor  # who registers the model, and will own it

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if RegisteredModel.objects.filter(name__iexact=name).exists():
            raise forms.ValidationError("A model with this name already exists (names ignore case).")
        return name

    def clean_reviewers(self) -> list[Any]:
        names = _names(self.cleaned_data["reviewers"])
        if self.actor is not None and self.actor.get_username() in names:
            raise forms.ValidationError("You will own the model; list the other people who should review it.")
        found = {u.get_username(): u for u in get_user_model().objects.filter(username__in=names, is_active=True)}
        return [found[name] for name in names if _found(found, name, "No active user is called “{}”.")]

    def clean_reviewer_groups(self) -> list[Group]:
        names = _names(self.cleaned_data["reviewer_groups"])
        found = {g.name: g for g in Group.objects.filter(name__in=names)}
        return [found[name] for name in names if _found(found, name, "No group is called “{}”.")]

    def collaborator_fields(self) -> tuple[list[Any], list[Group]]:
        """The reviewers and reviewer groups, taken out of cleaned_data (what is left registers the model)."""
        return self.cleaned_data.pop("reviewers"), self.cleaned_data.pop("reviewer_groups")


def _names(text: str) -> list[str]:
    names = list(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    if len(names) > MAX_REVIEWERS:
        raise forms.ValidationError(f"At most {MAX_REVIEWERS} at once; add more on the Collaborators tab.")
    return names


def _found(found: dict[str, Any], name: str, message: str) -> bool:
    if name not in found:
        raise forms.ValidationError(message.format(name))
    return True


class ModelEditForm(forms.Form):
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 5}), required=False, max_length=MAX_DESCRIPTION)
    labels = LabelsField()
    task_type = forms.ChoiceField(label="Task type", choices=TaskType.choices)
    data_type = forms.ChoiceField(label="Data type", choices=DataType.choices)
    visibility = forms.ChoiceField(choices=Visibility.choices, widget=forms.RadioSelect)
    attributes = attributes_field()

    def __init__(self, *args: Any, can_manage: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not can_manage:
            del self.fields["visibility"]

    def clean_attributes(self) -> dict[str, str]:
        return parse_attributes(self.cleaned_data["attributes"])


class VersionForm(forms.Form):
    name = forms.RegexField(
        regex=VERSION_NAME_PATTERN,
        max_length=MAX_VERSION_NAME,
        strip=True,  # RegexField keeps surrounding spaces by default; the service strips them too
        label="Version name",
        help_text="e.g. v1.2.0 — letters, digits, '.', '_' or '-'; unique within the model.",
        error_messages={"invalid": "Start with a letter or digit; then use letters, digits, '.', '_' or '-'."},
    )
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False, max_length=MAX_DESCRIPTION)
    labels = LabelsField()
    attributes = attributes_field()
    artifact_uri = forms.CharField(
        label="Artifact URI", max_length=MAX_URI, required=False, help_text="e.g. s3://models/churn/v3/model.pkl"
    )
    source_run_url = forms.URLField(label="Source run URL", max_length=MAX_URI, required=False, assume_scheme="https")

    def __init__(self, *args: Any, model: RegisteredModel, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.model = model
        if editing:
            del self.fields["name"]

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if name.lower() in RESERVED_NAMES:
            raise forms.ValidationError(f"“{name}” is reserved; choose another version name.")
        if ModelVersion.objects.filter(model=self.model, name=name).exists():
            raise forms.ValidationError(f"Version “{name}” already exists for this model.")
        return name

    def clean_attributes(self) -> dict[str, str]:
        return parse_attributes(self.cleaned_data["attributes"])


def _find_principal(form: forms.Form, cleaned: dict[str, Any]) -> None:
    """Put the user or group named in the form into cleaned["principal"], or add an error to "name"."""
    name, kind = cleaned.get("name", "").strip(), cleaned.get("kind")
    if not name or not kind:
        return
    principal: Any
    if kind == "user":
        principal = get_user_model().objects.filter(username=name, is_active=True).first()
    else:
        principal = Group.objects.filter(name=name).first()
    if principal is None:
        form.add_error(
            "name", f"No active user is called “{name}”." if kind == "user" else f"No group is called “{name}”."
        )
    cleaned["principal"] = principal


class CollaboratorForm(forms.Form):
    kind = forms.ChoiceField(
        label="Add a", choices=[("user", "User"), ("group", "Group")], initial="user", widget=forms.RadioSelect
    )
    name = forms.CharField(label="Username or group name", max_length=150)
    role = forms.ChoiceField(
        choices=[(role.value, role.label) for role in Role],
        initial=Role.VIEWER,
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        _find_principal(self, cleaned)
        return cleaned


class CollaboratorRemoveForm(forms.Form):
    kind = forms.ChoiceField(choices=[("user", "User"), ("group", "Group")])
    name = forms.CharField(max_length=150)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        _find_principal(self, cleaned)
        return cleaned
