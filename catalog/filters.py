"""FilterSets of the catalog and the versions dashboard."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import F, Q, QuerySet

from catalog.models import DataType, ModelVersion, RegisteredModel, Stage, TaskType, stage_count_field


class CatalogFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search", max_length=200)
    stage = django_filters.ChoiceFilter(
        choices=Stage.choices,
        method="has_version_in_stage",
        label="Has a version in",
        empty_label="Any stage",
    )
    label = django_filters.CharFilter(field_name="labels__name", label="Label", max_length=50)
    owner = django_filters.CharFilter(field_name="owner__username", label="Owner", max_length=150)
    task_type = django_filters.ChoiceFilter(choices=TaskType.choices, label="Task", empty_label="Any task")
    data_type = django_filters.ChoiceFilter(choices=DataType.choices, label="Data", empty_label="Any data")
    sort = django_filters.ChoiceFilter(
        choices=[
            ("name", "Name"),
            ("updated", "Recently updated"),
            ("production", "Most production versions"),
        ],
        method="sort_by",
        label="Sort by",
        empty_label=None,
    )

    class Meta:
        model = RegisteredModel
        fields: list[str] = []

    def __init__(self, data: Any = None, *args: Any, **kwargs: Any) -> None:
        super().__init__(data, *args, **kwargs)
        self.form.fields["q"].widget = forms.TextInput(attrs={"type": "search", "placeholder": "Name or description"})

    @property
    def qs(self) -> QuerySet[RegisteredModel]:
        queryset = super().qs
        if not (self.is_bound and self.form.is_valid() and self.form.cleaned_data.get("sort")):
            queryset = queryset.order_by("name", "pk")
        return queryset

    def search(self, queryset: QuerySet[RegisteredModel], name: str, value: str) -> QuerySet[RegisteredModel]:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(description__icontains=value))

    def has_version_in_stage(
        self, queryset: QuerySet[RegisteredModel], name: str, value: str
    ) -> QuerySet[RegisteredModel]:
        return queryset.filter(**{f"{stage_count_field(value)}__gt": 0})

    def sort_by(self, queryset: QuerySet[RegisteredModel], name: str, value: str) -> QuerySet[RegisteredModel]:
        if value == "updated":
            return queryset.order_by("-updated_at", "-pk")
        if value == "production":
            return queryset.order_by("-production_count", "name", "pk")
        return queryset.order_by("name", "pk")


VERSION_SORTS: dict[str, tuple[str, tuple[Any, ...]]] = {
    "newest": ("Newest first", ("-created_at", "-pk")),
    "oldest": ("Oldest first", ("created_at", "pk")),
    "name": ("Version name", ("name", "pk")),
    "changed": ("Last stage change", (F("stage_changed_at").desc(nulls_last=True), "-pk")),
}


class VersionFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(field_name="name", lookup_expr="icontains", label="Version", max_length=100)
    stage = django_filters.ChoiceFilter(choices=Stage.choices, label="Stage", empty_label="Any stage")
    sort = django_filters.ChoiceFilter(
        choices=[(key, label) for key, (label, _) in VERSION_SORTS.items()],
        method="sort_by",
        label="Sort by",
        empty_label=None,
    )

    class Meta:
        model = ModelVersion
        fields: list[str] = []

    @property
    def qs(self) -> QuerySet[ModelVersion]:
        queryset = super().qs
        if not (self.is_bound and self.form.is_valid() and self.form.cleaned_data.get("sort")):
            queryset = queryset.order_by(*VERSION_SORTS["newest"][1])
        return queryset

    def sort_by(self, queryset: QuerySet[ModelVersion], name: str, value: str) -> QuerySet[ModelVersion]:
        return queryset.order_by(*VERSION_SORTS.get(value, VERSION_SORTS["newest"])[1])
