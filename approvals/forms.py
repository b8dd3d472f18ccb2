"""Forms of the approval workflow; every control has a visible label."""

from __future__ import annotations

from django import forms

from approvals.models import MAX_COMMENT
from catalog.models import MAX_APPROVALS, MIN_APPROVALS, LockLevel, Stage


class ChangeRequestForm(forms.Form):
    to_stage = forms.ChoiceField(label="Stage", choices=Stage.choices)
    comment = forms.CharField(
        label="Comment",
        required=False,
        max_length=MAX_COMMENT,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "Why this change? Reviewers and the log will see it."}),
        help_text="Suggested, not required.",
    )
    archive_others = forms.BooleanField(label="Archive the versions now in this stage", required=False)


class ReviewForm(forms.Form):
    comment = forms.CharField(
        label="Comment", required=False, max_length=MAX_COMMENT, widget=forms.Textarea(attrs={"rows": 2})
    )


class LockForm(forms.Form):
    lock_level = forms.ChoiceField(label="Lock level", choices=LockLevel.choices)


class PolicyForm(forms.Form):
    required_approvals = forms.IntegerField(
        label="Approvals required", min_value=MIN_APPROVALS, max_value=MAX_APPROVALS
    )
