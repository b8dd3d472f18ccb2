"""factory-boy factories; they go through the services so roles and activity are real."""

from __future__ import annotations

from typing import Any

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from catalog import services
from catalog.models import ModelVersion, RegisteredModel


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("pw")


class GroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Group
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"group{n}")


class ModelFactory(factory.Factory):
    """Registers a model through register_model, so its owner holds the Owner role."""

    class Meta:
        model = RegisteredModel

    owner = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"Model {n}")
    description = "A model for tests."
    labels: list[str] = []
    visibility = "organization"

    @classmethod
    def _create(cls, model_class: Any, owner: Any, **kwargs: Any) -> RegisteredModel:
        return services.register_model(actor=owner, **kwargs)


class VersionFactory(factory.Factory):
    """Registers a version through register_version."""

    class Meta:
        model = ModelVersion

    model = factory.SubFactory(ModelFactory)
    created_by = factory.LazyAttribute(lambda v: v.model.owner)
    name = factory.Sequence(lambda n: f"v{n}")
    description = "A version for tests."

    @classmethod
    def _create(cls, model_class: Any, model: RegisteredModel, created_by: Any, **kwargs: Any) -> ModelVersion:
        return services.register_version(actor=created_by, model=model, **kwargs)
