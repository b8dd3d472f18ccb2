"""Forms of the activity log: a comment on a version, and the moment of the "as of" view."""

from __future__ import annotations

from datetime import datetime

from django import forms
from django.utils import timezone

from activity.models import MAX_COMMENT


class CommentForm(forms.Form):
    comment = forms.CharField(
        label="Comment",
        max_length=MAX_COMMENT,
        error_messages={"required": "Write a comment first."},
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "Add a note to this version's history"}),
    )


EARLIEST_YEAR = 1971


class AsOfForm(forms.Form):
    at = forms.DateTimeField(
        label="Date and time",
        error_messages={"required": "Enter a date and time."},
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )

    def clean_at(self) -> datetime:
        at: datetime = self.cleaned_data["at"]
        if at > timezone.now():
            raise forms.ValidationError("That moment is in the future; pick one up to now.")
        if at.year < EARLIEST_YEAR:  # also keeps time zone arithmetic away from the year 1
            raise forms.ValidationError(f"The log starts after {EARLIEST_YEAR}; pick a later moment.")
        return at
