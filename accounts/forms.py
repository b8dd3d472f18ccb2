from __future__ import annotations

from django import forms

from accounts.models import time_zone_names


class ProfileForm(forms.Form):
    time_zone = forms.ChoiceField(
        label="Time zone",
        help_text="Dates and times across the catalog, its feeds and exports are shown in this zone.",
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["time_zone"].choices = [(name, name.replace("_", " ")) for name in time_zone_names()]  # type: ignore[attr-defined]
