"""The form that makes an API token."""

from __future__ import annotations

from django import forms

from api.models import MAX_TOKEN_DAYS, MAX_TOKEN_NAME


class TokenForm(forms.Form):
    name = forms.CharField(
        label="Name", max_length=MAX_TOKEN_NAME, help_text="What uses it, e.g. “release pipeline” or “laptop CLI”."
    )
    expires_in_days = forms.IntegerField(
        label="Expires after (days)",
        required=False,
        min_value=1,
        max_value=MAX_TOKEN_DAYS,
        help_text="Leave empty for a token that does not expire.",
    )
