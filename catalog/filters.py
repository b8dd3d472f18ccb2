"""FilterSets of the catalog, the versions dashboard and the Versions page's quick filters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import django_filters
from django import forms
from django.db.models import Exists, F, OuterRef, QuerySet
from django.http import QueryDict
from django.urls import reverse

from approvals.models import StageChangeRequest, Status
from catalog.models import DataType, ModelVersion, RegisteredModel, Stage, TaskType, stage_count_field
from core.keyset import without_cursor


def matching_model_ids(text: str) -> QuerySet[Any]:
    """The ids of the models whose name, description or labels, or one of whose versions' names or labels, contain
    text, ignoring case.

    A union of one query per column rather than one OR across joins: each part is an icontains that PostgreSQL answers
    from the column's trigram index (catalog migration 0006), where an OR across joins would scan every model.
    """
    model_labels = RegisteredModel.labels.through.objects.filter(label__name__icontains=text)
    version_labels = ModelVersion.labels.through.objects.filter(label__name__icontains=text)
    parts = [
        RegisteredModel.objects.filter(description__icontains=text).values("pk"),
        model_labels.values("registeredmodel_id"),
        ModelVersion.objects.filter(name__icontains=text).values("model_id"),
        version_labels.values("modelversion__model_id"),
    ]
    return (
        RegisteredModel.objects.filter(name__icontains=text)
        .order_by()
        .values("pk")
        .union(*(part.order_by() for part in parts))
    )


class CatalogFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search", max_length=200)
    stage = django_filters.ChoiceFilter(
        choices=Stage.choices,
        method="has_version_in_stage",
        label="Has a version in",
        empty_label="Any stage",
    )
    label = django_filters.CharFilter(method="with_label", label="Label", max_length=50)
    owner = django_filters.CharFilter(method="owned_by", label="Owner", max_length=150)
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
        self.form.fields["q"].widget = forms.TextInput(
            attrs={"type": "search", "placeholder": "Name, description, label or version"}
        )
        # Suggestions as you type: a datalist the page fills, refreshed by htmx from the suggestion endpoints.
        for field, url in (("label", "catalog:suggest-labels"), ("owner", "catalog:suggest-owners")):
            self.form.fields[field].widget = forms.TextInput(
                attrs={
                    "list": f"{field}-options",
                    "autocomplete": "off",
                    "hx-get": reverse(url),
                    "hx-trigger": "input changed delay:200ms",
                    "hx-target": f"#{field}-options",
                    "hx-swap": "innerHTML",
                    "hx-sync": "this:replace",
                }
            )
        self.form.fields["owner"].help_text = "The start of a username."

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
        return queryset.filter(pk__in=matching_model_ids(value))

    def with_label(self, queryset: QuerySet[RegisteredModel], name: str, value: str) -> QuerySet[RegisteredModel]:
        value = value.strip().lower()  # labels are stored in lowercase
        return queryset.filter(labels__name=value) if value else queryset

    def owned_by(self, queryset: QuerySet[RegisteredModel], name: str, value: str) -> QuerySet[RegisteredModel]:
        value = value.strip()
        return queryset.filter(owner__username__istartswith=value) if value else queryset

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


PENDING = "1"


class VersionSearchFilter(django_filters.FilterSet):
    """The Versions page's quick filters: ordinary parameters that narrow its find= search (catalog.find reads that)."""

    stage = django_filters.ChoiceFilter(choices=Stage.choices, label="Stage")
    pending = django_filters.ChoiceFilter(
        choices=[(PENDING, "With a pending request")], method="with_pending_request", label="Pending request"
    )

    class Meta:
        model = ModelVersion
        fields: list[str] = []

    def with_pending_request(self, queryset: QuerySet[ModelVersion], name: str, value: str) -> QuerySet[ModelVersion]:
        # A correlated EXISTS probes the one-pending-request-per-version index as the page's rows are read.
        pending = StageChangeRequest.objects.filter(version=OuterRef("pk"), status=Status.PENDING)
        return queryset.filter(Exists(pending))


# The chips above the Versions page's results: (label, parameter, value), each one a value of VersionSearchFilter.
QUICK_FILTERS: tuple[tuple[str, str, str], ...] = (
    ("In Production", "stage", Stage.PRODUCTION.value),
    ("In Staging", "stage", Stage.STAGING.value),
    ("Pending request", "pending", PENDING),
)


@dataclass(frozen=True)
class QuickFilter:
    label: str
    url: str  # the page with this chip turned on (or off, when on), the other parameters kept, on its first page
    on: bool
    dot: str  # the stage whose colour marks the chip, or ""


def quick_filters(params: QueryDict, *, url: str) -> list[QuickFilter]:
    """The Versions page's chips for a request's parameters; each link toggles its own parameter and keeps the rest."""
    chips = []
    for label, name, value in QUICK_FILTERS:
        query = without_cursor(params)
        for empty in [key for key, values in query.lists() if not any(values)]:
            del query[empty]  # a search box submitted blank, say: no need to carry it along
        on = query.get(name) == value
        if on:
            del query[name]
        else:
            query[name] = value
        link = f"{url}?{query.urlencode()}" if query else url
        chips.append(QuickFilter(label=label, url=link, on=on, dot=value if name == "stage" else ""))
    return chips
