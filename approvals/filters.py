"""FilterSet of the reviewer's inbox."""

from __future__ import annotations

import django_filters

from approvals.models import StageChangeRequest
from catalog.models import Stage


class InboxFilter(django_filters.FilterSet):
    model = django_filters.CharFilter(
        field_name="version__model__name", lookup_expr="icontains", label="Model", max_length=200
    )
    to_stage = django_filters.ChoiceFilter(choices=Stage.choices, label="Target stage", empty_label="Any stage")

    class Meta:
        model = StageChangeRequest
        fields: list[str] = []
