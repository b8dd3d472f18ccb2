"""The webhook form of the Webhooks tab: what the services take, with the headers written one per line."""

from __future__ import annotations

from typing import Any

from django import forms

from webhooks.models import (
    GRACE_HOURS,
    MAX_DESCRIPTION,
    MAX_GRACE_HOURS,
    MAX_URL,
    SUBSCRIBABLE,
    PayloadFormat,
    State,
    Webhook,
)


class WebhookForm(forms.Form):
    url = forms.CharField(
        label="URL",
        max_length=MAX_URL,
        widget=forms.URLInput(attrs={"placeholder": "https://hooks.example.com/model-catalog"}),
    )
    description = forms.CharField(max_length=MAX_DESCRIPTION, required=False)
    events = forms.MultipleChoiceField(
        choices=[(event.value, event.label) for event in SUBSCRIBABLE],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="None ticked: every event.",
    )
    payload_format = forms.ChoiceField(label="Payload", choices=PayloadFormat.choices, initial=PayloadFormat.STANDARD)
    state = forms.ChoiceField(
        choices=State.choices,
        initial=State.ACTIVE,
        help_text="Test mode logs events without sending them; “Send test event” still sends.",
    )
    headers = forms.CharField(
        label="Extra headers",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "Authorization: Bearer …"}),
        help_text="One per line, as Name: value.",
    )

    @classmethod
    def for_webhook(cls, webhook: Webhook) -> WebhookForm:
        headers = "\n".join(f"{name}: {value}" for name, value in (webhook.headers or {}).items())
        initial = {
            "url": webhook.url,
            "description": webhook.description,
            "events": webhook.events,
            "payload_format": webhook.payload_format,
            "state": webhook.state,
            "headers": headers,
        }
        return cls(initial=initial)

    def clean_headers(self) -> dict[str, str]:
        headers: dict[str, str] = {}
        for line in self.cleaned_data["headers"].splitlines():
            if not line.strip():
                continue
            name, colon, value = line.partition(":")
            if not colon or not name.strip():
                raise forms.ValidationError(f"Write each header as Name: value (not “{line.strip()[:40]}”).")
            headers[name.strip()] = value.strip()
        return headers

    def fields_for_service(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


class RotateForm(forms.Form):
    grace_hours = forms.IntegerField(
        label="Old secret accepted for (hours)",
        min_value=0,
        max_value=MAX_GRACE_HOURS,
        initial=GRACE_HOURS,
        required=False,
    )
