"""FilterSet of the activity log: the activity page, a model's Activity tab and the exports."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.text import slugify

from activity.models import VERB_GROUPS, ActivityEntry
from catalog.models import RegisteredModel, Stage


class ActivityFilterForm(forms.Form):
    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            raise forms.ValidationError("The “from” date is after the “to” date.")
        return data


EARLIEST, LATEST = date(1971, 1, 1), date(9998, 12, 31)


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


class ActivityFilter(django_filters.FilterSet):
    model = django_filters.CharFilter(method="for_model", label="Model", max_length=200)
    version = django_filters.CharFilter(field_name="version__name", label="Version", max_length=100)
    actor = django_filters.CharFilter(field_name="actor__username", label="Actor (username)", max_length=150)
    kind = django_filters.ChoiceFilter(
        field_name="verb",
        choices=[(group, [(verb.value, verb.label.capitalize()) for verb in verbs]) for group, verbs in VERB_GROUPS],
        label="Kind of event",
        empty_label="Any event",
    )
    stage = django_filters.ChoiceFilter(
        field_name="to_stage", choices=Stage.choices, label="Target stage", empty_label="Any stage"
    )
    since = django_filters.DateFilter(
        method="on_or_after", label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    until = django_filters.DateFilter(method="on_or_before", label="To", widget=forms.DateInput(attrs={"type": "date"}))
    q = django_filters.CharFilter(
        field_name="comment", lookup_expr="icontains", label="Comment contains", max_length=200
    )

    class Meta:
        model = ActivityEntry
        fields: list[str] = []
        form = ActivityFilterForm

    def __init__(self, *args: Any, fixed_model: RegisteredModel | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if fixed_model is not None:  # a model's own Activity tab
            self.filters.pop("model")

    def for_model(self, queryset: QuerySet[ActivityEntry], name: str, value: str) -> QuerySet[ActivityEntry]:
        # By slug or by name, resolved in a subquery so the log is read through its (model, time) index.
        matching = RegisteredModel.objects.filter(Q(slug=slugify(value)) | Q(name__iexact=value.strip()))
        return queryset.filter(model__in=matching.values("pk"))

    def on_or_after(self, queryset: QuerySet[ActivityEntry], name: str, value: date) -> QuerySet[ActivityEntry]:
        if value <= EARLIEST:  # before any entry; also keeps time zone arithmetic away from year 1
            return queryset
        return queryset.filter(created_at__gte=_start_of(value))

    def on_or_before(self, queryset: QuerySet[ActivityEntry], name: str, value: date) -> QuerySet[ActivityEntry]:
        if value >= LATEST:  # the day after it would not exist
            return queryset
        return queryset.filter(created_at__lt=_start_of(value + timedelta(days=1)))
