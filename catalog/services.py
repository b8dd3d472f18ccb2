"""Every write to the catalog: registering models and versions, editing metadata, collaborators."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from django.contrib.auth.models import Group, Permission, User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Max, Model, OuterRef, Subquery
from django.db.models.functions import Coalesce, Greatest, Lower
from django.utils.text import slugify

from activity.models import ActivityEntry, Verb
from activity.services import record_activities, record_activity
from catalog import permissions
from catalog.models import (
    ALIAS_PATTERN,
    MAX_ALIAS,
    MAX_ATTRIBUTE_KEY,
    MAX_ATTRIBUTE_VALUE,
    MAX_ATTRIBUTES,
    MAX_LABELS,
    RESERVED_ALIAS_PATTERN,
    STAGE_ORDER,
    Alias,
    DataType,
    Label,
    ModelVersion,
    RegisteredModel,
    RegisteredModelGroupObjectPermission,
    RegisteredModelUserObjectPermission,
    Stage,
    TaskType,
    Visibility,
    stage_count_field,
)
from catalog.permissions import ROLE_PERMISSIONS, Role
from core import bulk, clock
from core.names import UnusableName, clean_name, skeleton

# Path segments the URLs use for other pages; no model slug or version name may take them.
RESERVED_NAMES = frozenset({"new", "edit"})
# Refusing a name that only looks like another's does not say which model it looks like: it may be private.
LOOKALIKE_NAME = (
    "“{name}” looks too much like the name of an existing model (letters that look alike, such as a Cyrillic “а” for "
    "a Latin “a”, or “l” for “1”). Choose a clearly different name."
)


class CatalogError(Exception):
    """A catalog action was refused; the message is fit to show a user."""


def _validated(instance: Model, *, exclude: Iterable[str] = ()) -> None:
    try:
        instance.full_clean(exclude=list(exclude), validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        messages = [
            f"{field.replace('_', ' ').capitalize()}: {' '.join(errs)}" for field, errs in error.message_dict.items()
        ]
        raise CatalogError(" ".join(messages)) from error


def _labels(names: Iterable[str]) -> list[Label]:
    wanted = sorted(set(names))
    if len(wanted) > MAX_LABELS:
        raise CatalogError(f"At most {MAX_LABELS} labels.")
    for name in wanted:
        _validated(Label(name=name))
    Label.objects.bulk_create([Label(name=name) for name in wanted], ignore_conflicts=True)
    return list(Label.objects.filter(name__in=wanted))


AttributeValue = str | int | float | bool | None


def _attributes(attributes: Mapping[str, AttributeValue] | None) -> dict[str, AttributeValue]:
    """Attributes, checked against the limits: text keys, plain values (text, numbers, booleans, null)."""
    if attributes is not None and not isinstance(attributes, Mapping):
        raise CatalogError('Attributes are keys with values, such as {"framework": "xgboost"}.')
    checked = dict(attributes or {})
    if len(checked) > MAX_ATTRIBUTES:
        raise CatalogError(f"At most {MAX_ATTRIBUTES} attributes.")
    for key, value in checked.items():
        if not isinstance(key, str) or not key.strip() or len(key) > MAX_ATTRIBUTE_KEY:
            raise CatalogError(f"Attribute keys are 1–{MAX_ATTRIBUTE_KEY} characters.")
        if value is not None and not isinstance(value, str | int | float | bool):
            raise CatalogError(f"Attribute “{key}” must be text, a number, true/false or null.")
        if len(str(value)) > MAX_ATTRIBUTE_VALUE:
            raise CatalogError(f"Attribute “{key}” is longer than {MAX_ATTRIBUTE_VALUE} characters.")
        if "\x00" in key or "\x00" in str(value):
            raise CatalogError(f"Attribute “{key}” contains a character that cannot be stored (NUL).")
    return checked


def _unique_slug(name: str) -> str:
    base = slugify(name)[:200].strip("-") or "model"
    slug, n = base, 2
    while slug in RESERVED_NAMES or RegisteredModel.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


def _grant_role(*, model: RegisteredModel, role: Role, user: Any = None, group: Group | None = None) -> None:
    """Give a user or a group exactly role on model, replacing any role they had."""
    codenames = ROLE_PERMISSIONS[role]
    perms = Permission.objects.filter(content_type__app_label="catalog", codename__in=codenames)
    if user is not None:
        RegisteredModelUserObjectPermission.objects.filter(content_object=model, user=user).delete()
        RegisteredModelUserObjectPermission.objects.bulk_create(
            [RegisteredModelUserObjectPermission(content_object=model, user=user, permission=p) for p in perms]
        )
    else:
        RegisteredModelGroupObjectPermission.objects.filter(content_object=model, group=group).delete()
        RegisteredModelGroupObjectPermission.objects.bulk_create(
            [RegisteredModelGroupObjectPermission(content_object=model, group=group, permission=p) for p in perms]
        )
    permissions.grants_changed()


@transaction.atomic
def register_model(
    *,
    actor: User,
    name: str,
    description: str = "",
    labels: Iterable[str] = (),
    task_type: str = TaskType.UNKNOWN,
    data_type: str = DataType.UNKNOWN,
    visibility: str = Visibility.ORGANIZATION,
    attributes: Mapping[str, AttributeValue] | None = None,
) -> RegisteredModel:
    """Register a model owned by actor, who gets the Owner role. Raises PermissionDenied, CatalogError."""
    permissions.may_register_model(actor).enforce(CatalogError)
    try:
        name = clean_name(name)
    except UnusableName as error:
        raise CatalogError(str(error)) from error
    model = RegisteredModel(
        name=name,
        name_skeleton=skeleton(name),
        description=description.strip(),
        attributes=_attributes(attributes),
        owner=actor,
        task_type=task_type,
        data_type=data_type,
        visibility=visibility,
        slug="pending",
    )
    _validated(model)
    if RegisteredModel.objects.filter(name__iexact=name).exists():
        raise CatalogError(f"A model named “{name}” already exists. Choose another name.")
    if RegisteredModel.objects.filter(name_skeleton=model.name_skeleton).exists():
        raise CatalogError(LOOKALIKE_NAME.format(name=name))
    for attempt in range(3):
        model.slug = _unique_slug(name)
        try:
            with transaction.atomic():
                model.save()
            break
        except IntegrityError as error:
            # Lost a race: to the same name (refuse), or only to the same slug (take the next free one).
            if RegisteredModel.objects.filter(name__iexact=name).exists() or attempt == 2:
                raise CatalogError(
                    f"A model named “{name}” was registered at the same time. Choose another name."
                ) from error
    model.labels.set(_labels(labels))
    _grant_role(model=model, role=Role.OWNER, user=actor)
    record_activity(actor=actor, verb=Verb.MODEL_REGISTERED, model=model, extra={"name": name})
    return model


@transaction.atomic
def register_version(
    *,
    actor: User,
    model: RegisteredModel,
    name: str | None,
    description: str = "",
    labels: Iterable[str] = (),
    attributes: Mapping[str, AttributeValue] | None = None,
    artifact_uri: str = "",
    source_run_url: str = "",
    run_id: str = "",
) -> ModelVersion:
    """Register a new version of model, in stage Unassigned; with name None it is named by its number (as MLflow
    numbers versions). Raises PermissionDenied, CatalogError."""
    permissions.may_register_version(actor, model).enforce(CatalogError)
    # The model's row lock serializes version names and numbers per model.
    model = RegisteredModel.objects.select_for_update().get(pk=model.pk)
    number = (ModelVersion.objects.filter(model=model).aggregate(last=Max("number"))["last"] or 0) + 1
    name = str(number) if name is None else name.strip()
    version = ModelVersion(
        model=model,
        name=name,
        number=number,
        description=description.strip(),
        attributes=_attributes(attributes),
        artifact_uri=artifact_uri.strip(),
        source_run_url=source_run_url.strip(),
        run_id=run_id.strip(),
        created_by=actor,
    )
    _validated(version)
    if name.lower() in RESERVED_NAMES:
        raise CatalogError(f"“{name}” is reserved; choose another version name.")
    if ModelVersion.objects.filter(model=model, name=name).exists():
        raise CatalogError(f"Version “{name}” already exists for {model.name}. Choose another version name.")
    version.save()
    version.labels.set(_labels(labels))
    RegisteredModel.objects.filter(pk=model.pk).update(
        unassigned_count=F("unassigned_count") + 1, updated_at=clock.now()
    )
    record_activity(actor=actor, verb=Verb.VERSION_REGISTERED, model=model, version=version)
    return version


def apply_stage_change(*, version: ModelVersion, to_stage: str) -> str:
    """Move version to to_stage and keep its model's stage counts in step; returns the stage it left.

    The one writer of a version's stage: the caller holds the version's row lock, has checked permission,
    lock level and workflow state, and records the activity entry in the same transaction.
    """
    from_stage = version.stage
    if from_stage == to_stage:
        raise CatalogError(f"Version {version.name} is already in {Stage(to_stage).label}.")
    now = clock.now()
    version.stage, version.stage_changed_at, version.updated_at = to_stage, now, now
    version.save(update_fields=["stage", "stage_changed_at", "updated_at"])
    leaving, entering = stage_count_field(from_stage), stage_count_field(to_stage)
    RegisteredModel.objects.filter(pk=version.model_id).update(
        **{leaving: F(leaving) - 1, entering: F(entering) + 1}, updated_at=now
    )
    return from_stage


def recount_stage_counts(*, model_ids: Iterable[int] | None = None) -> None:
    """Recompute the per-stage version counts of the given models (all when None) from their versions."""
    models = RegisteredModel.objects.all() if model_ids is None else RegisteredModel.objects.filter(pk__in=model_ids)
    counts = {
        stage_count_field(stage): Coalesce(
            Subquery(
                ModelVersion.objects.filter(model=OuterRef("pk"), stage=stage)
                .order_by()
                .values("model")
                .annotate(n=Count("pk"))
                .values("n")
            ),
            0,
        )
        for stage in STAGE_ORDER
    }
    models.update(**counts)


def _changed_fields(instance: Model, values: Mapping[str, Any]) -> list[str]:
    return [field for field, value in values.items() if getattr(instance, field) != value]


def _label_names(instance: RegisteredModel | ModelVersion) -> list[str]:
    return sorted(label.name for label in instance.labels.all())


@transaction.atomic
def edit_model(
    *,
    actor: User,
    model: RegisteredModel,
    description: str,
    labels: Iterable[str],
    task_type: str,
    data_type: str,
    visibility: str | None = None,
    attributes: Mapping[str, AttributeValue] | None = None,
) -> RegisteredModel:
    """Change a model's description, labels, types and attributes (None: as they are; Owners: visibility).
    Raises PermissionDenied, CatalogError."""
    access = permissions.Access(actor)
    permissions.may_edit_model(access, model).enforce(CatalogError)
    model = RegisteredModel.objects.select_for_update().get(pk=model.pk)
    values: dict[str, Any] = {
        "description": description.strip(),
        "task_type": task_type,
        "data_type": data_type,
    }
    if attributes is not None:
        values["attributes"] = _attributes(attributes)
    if visibility is not None and visibility != model.visibility:
        permissions.may_change_visibility(access, model).enforce(CatalogError)
        values["visibility"] = visibility
    changed = _changed_fields(model, values)
    for field, value in values.items():
        setattr(model, field, value)
    _validated(model)
    new_labels = sorted(set(labels))
    if new_labels != _label_names(model):
        changed.append("labels")
        model.labels.set(_labels(new_labels))
    if changed:
        model.updated_at = clock.now()
        model.save(update_fields=[f for f in changed if f != "labels"] + ["updated_at"])
        record_activity(actor=actor, verb=Verb.MODEL_EDITED, model=model, extra={"fields": changed})
    return model


@transaction.atomic
def edit_version(
    *,
    actor: User,
    version: ModelVersion,
    description: str,
    labels: Iterable[str],
    attributes: Mapping[str, AttributeValue],
    artifact_uri: str,
    source_run_url: str,
) -> ModelVersion:
    """Change a version's description, labels, attributes and links. Raises PermissionDenied, CatalogError."""
    access = permissions.Access(actor)
    permissions.may_edit_version(access, version).check_role()
    version = ModelVersion.objects.select_for_update().select_related("model").get(pk=version.pk)
    permissions.may_edit_version(access, version).enforce(CatalogError)  # the lock level as it is now, under the lock
    values: dict[str, Any] = {
        "description": description.strip(),
        "attributes": _attributes(attributes),
        "artifact_uri": artifact_uri.strip(),
        "source_run_url": source_run_url.strip(),
    }
    changed = _changed_fields(version, values)
    for field, value in values.items():
        setattr(version, field, value)
    _validated(version)
    new_labels = sorted(set(labels))
    if new_labels != _label_names(version):
        changed.append("labels")
        version.labels.set(_labels(new_labels))
    if changed:
        version.updated_at = version.model.updated_at = clock.now()
        version.save(update_fields=[f for f in changed if f != "labels"] + ["updated_at"])
        version.model.save(update_fields=["updated_at"])
        record_activity(
            actor=actor,
            verb=Verb.VERSION_EDITED,
            model=version.model,
            version=version,
            extra={"fields": changed},
        )
    return version


def _principal_name(*, user: Any, group: Group | None) -> str:
    return f"user {user.get_username()}" if user is not None else f"group {group.name}"  # type: ignore[union-attr]


@transaction.atomic
def add_collaborator(
    *,
    actor: User,
    model: RegisteredModel,
    role: Role,
    user: Any = None,
    group: Group | None = None,
) -> None:
    """Give a user or a group a role on model, replacing any role they had. Raises PermissionDenied, CatalogError."""
    permissions.may_manage_collaborators(actor, model).enforce(CatalogError)
    if (user is None) == (group is None):
        raise CatalogError("Choose either a user or a group.")
    model = RegisteredModel.objects.select_for_update().get(pk=model.pk)
    if user is not None and user.pk == model.owner_id and role != Role.OWNER:
        raise CatalogError(f"{user.get_username()} owns this model and keeps the Owner role.")
    _grant_role(model=model, role=role, user=user, group=group)
    principal = _principal_name(user=user, group=group)
    record_activity(
        actor=actor,
        verb=Verb.COLLABORATOR_ADDED,
        model=model,
        extra={"principal": principal, "role": str(role.label)},
    )


@transaction.atomic
def remove_collaborator(*, actor: User, model: RegisteredModel, user: Any = None, group: Group | None = None) -> None:
    """Take away every role a user or a group has on model. Raises PermissionDenied, CatalogError."""
    permissions.may_manage_collaborators(actor, model).enforce(CatalogError)
    if (user is None) == (group is None):
        raise CatalogError("Choose either a user or a group.")
    model = RegisteredModel.objects.select_for_update().get(pk=model.pk)
    if user is not None:
        if user.pk == model.owner_id:
            raise CatalogError(f"{user.get_username()} owns this model and cannot be removed.")
        deleted, _ = RegisteredModelUserObjectPermission.objects.filter(content_object=model, user=user).delete()
    else:
        deleted, _ = RegisteredModelGroupObjectPermission.objects.filter(content_object=model, group=group).delete()
    permissions.grants_changed()
    principal = _principal_name(user=user, group=group)
    if not deleted:
        raise CatalogError(f"The {principal} is not a collaborator on this model.")
    record_activity(actor=actor, verb=Verb.COLLABORATOR_REMOVED, model=model, extra={"principal": principal})


# Attributes one at a time (MLflow's tags) and aliases -----------------------------------------------------------


@transaction.atomic
def set_attribute(
    *, actor: User, target: RegisteredModel | ModelVersion, key: str, value: AttributeValue
) -> RegisteredModel | ModelVersion:
    """Set one attribute of a model or a version, keeping the others (Editors; a locked version refuses).
    Raises PermissionDenied, CatalogError."""
    return _change_attributes(actor=actor, target=target, set_to={key: value})


@transaction.atomic
def delete_attribute(
    *, actor: User, target: RegisteredModel | ModelVersion, key: str
) -> RegisteredModel | ModelVersion:
    """Remove one attribute of a model or a version; removing one it does not have changes nothing.
    Raises PermissionDenied, CatalogError."""
    return _change_attributes(actor=actor, target=target, remove=key)


def _change_attributes(
    *,
    actor: User,
    target: RegisteredModel | ModelVersion,
    set_to: Mapping[str, AttributeValue] | None = None,
    remove: str | None = None,
) -> RegisteredModel | ModelVersion:
    # Read, change and write under the row's lock, so two clients setting different keys keep both.
    access = permissions.Access(actor)
    if isinstance(target, ModelVersion):
        permissions.may_edit_version(access, target).check_role()
        locked: RegisteredModel | ModelVersion = (
            ModelVersion.objects.select_for_update().select_related("model").get(pk=target.pk)
        )
        permissions.may_edit_version(access, locked).enforce(CatalogError)  # type: ignore[arg-type]
    else:
        permissions.may_edit_model(access, target).enforce(CatalogError)
        locked = RegisteredModel.objects.select_for_update().get(pk=target.pk)
    attributes = dict(locked.attributes)
    if remove is not None:
        if remove not in attributes:
            return locked
        del attributes[remove]
    attributes = _attributes(attributes | dict(set_to or {}))
    if attributes == locked.attributes:
        return locked
    now = clock.now()
    locked.attributes, locked.updated_at = attributes, now
    locked.save(update_fields=["attributes", "updated_at"])
    changes: dict[str, Any] = {"fields": ["attributes"]}
    changes |= {"removed": remove} if remove is not None else {"set": sorted(set_to or {})}
    if isinstance(locked, ModelVersion):
        RegisteredModel.objects.filter(pk=locked.model_id).update(updated_at=now)
        record_activity(actor=actor, verb=Verb.VERSION_EDITED, model=locked.model, version=locked, extra=changes)
    else:
        record_activity(actor=actor, verb=Verb.MODEL_EDITED, model=locked, extra=changes)
    return locked


def _checked_alias(name: str) -> str:
    name = name.strip()
    if not re.match(ALIAS_PATTERN, name):
        raise CatalogError(
            f"An alias is 1–{MAX_ALIAS} letters, digits, '_' or '-', e.g. champion; “{name[:40]}” is not one."
        )
    if re.match(RESERVED_ALIAS_PATTERN, name, re.IGNORECASE):
        raise CatalogError(f"“{name}” is reserved (latest, and v followed by digits); choose another alias.")
    return name


@transaction.atomic
def set_alias(*, actor: User, version: ModelVersion, alias: str) -> Alias:
    """Point alias at version, moving it from another version of the model if it named one (Editors).
    Raises PermissionDenied, CatalogError."""
    model = version.model
    permissions.may_set_alias(actor, model).enforce(CatalogError)
    name = _checked_alias(alias)
    RegisteredModel.objects.select_for_update().filter(pk=model.pk).first()  # one alias change per model at a time
    current = Alias.objects.select_related("version").filter(model=model, name=name).first()
    if current is not None and current.version_id == version.pk:
        return current
    moved_from = current.version.name if current is not None else ""
    if current is None:
        current = Alias.objects.create(model=model, name=name, version=version)
    else:
        current.version = version
        current.save(update_fields=["version"])
    extra = {"alias": name} | ({"moved_from": moved_from} if moved_from else {})
    record_activity(actor=actor, verb=Verb.ALIAS_SET, model=model, version=version, extra=extra)
    return current


@transaction.atomic
def delete_alias(*, actor: User, model: RegisteredModel, alias: str) -> None:
    """Remove an alias from the model; removing one it does not have changes nothing (as MLflow).
    Raises PermissionDenied, CatalogError."""
    permissions.may_set_alias(actor, model).enforce(CatalogError)
    current = Alias.objects.select_for_update().select_related("version").filter(model=model, name=alias).first()
    if current is None:
        return
    version = current.version
    current.delete()
    record_activity(actor=actor, verb=Verb.ALIAS_DELETED, model=model, version=version, extra={"alias": alias})


# Copying a registry from another system (manage.py import_mlflow), in batches ------------------------------------
#
# The same decisions, validation and activity entries as register_model, register_version and set_alias, for many
# objects in one transaction: an import of 50,000 versions one service call at a time would spend minutes on
# round trips. What another registry knew is kept (version numbers, stages, times); each object gets one activity
# entry whose extra["imported"] says where it came from (origin).


@dataclass(frozen=True)
class ImportedModel:
    """A model as another registry holds it."""

    name: str
    description: str = ""
    attributes: Mapping[str, AttributeValue] = dataclasses.field(default_factory=dict)
    created_at: datetime | None = None
    updated_at: datetime | None = None
    origin: Mapping[str, Any] = dataclasses.field(default_factory=dict)


@dataclass(frozen=True)
class ImportedVersion:
    """A version as another registry holds it, for a model already here; number is its number there."""

    model: RegisteredModel
    number: int
    stage: str = Stage.UNASSIGNED
    description: str = ""
    attributes: Mapping[str, AttributeValue] = dataclasses.field(default_factory=dict)
    artifact_uri: str = ""
    source_run_url: str = ""
    run_id: str = ""
    created_at: datetime | None = None
    updated_at: datetime | None = None
    origin: Mapping[str, Any] = dataclasses.field(default_factory=dict)


@dataclass(frozen=True)
class ImportedAlias:
    """An alias as another registry holds it, naming a version already here."""

    version: ModelVersion
    name: str
    origin: Mapping[str, Any] = dataclasses.field(default_factory=dict)


Item = TypeVar("Item")
Made = TypeVar("Made")


@dataclass
class ImportOutcome(Generic[Item, Made]):
    """What a batch import made, what was already here (left as it is) and what was refused, with the reason."""

    created: list[Made] = dataclasses.field(default_factory=list)
    existing: list[Item] = dataclasses.field(default_factory=list)
    failed: list[tuple[Item, str]] = dataclasses.field(default_factory=list)


def _free_slugs(names: Sequence[str]) -> list[str]:
    """A free slug for each name, distinct among themselves (one query unless some are taken)."""
    bases = [slugify(name)[:200].strip("-") or "model" for name in names]
    used = set(RegisteredModel.objects.filter(slug__in=bases).values_list("slug", flat=True)) | RESERVED_NAMES
    slugs = []
    for base in bases:
        slug, n = base, 2
        while slug in used or (slug != base and RegisteredModel.objects.filter(slug=slug).exists()):
            slug, n = f"{base}-{n}", n + 1
        used.add(slug)
        slugs.append(slug)
    return slugs


@transaction.atomic
def import_models(*, actor: User, models: Sequence[ImportedModel]) -> ImportOutcome[ImportedModel, RegisteredModel]:
    """Register models copied from another registry, owned by actor, with their times and one activity entry each;
    a model whose name is taken is left as it is (existing). Raises PermissionDenied, CatalogError (a race)."""
    permissions.may_register_model(actor).enforce(CatalogError)
    outcome: ImportOutcome[ImportedModel, RegisteredModel] = ImportOutcome()
    names: dict[int, str] = {}
    for index, item in enumerate(models):
        try:
            names[index] = clean_name(item.name)
        except UnusableName as error:
            outcome.failed.append((item, str(error)))
    skeletons = {index: skeleton(name) for index, name in names.items()}
    taken = set(
        RegisteredModel.objects.annotate(lower_name=Lower("name"))
        .filter(lower_name__in=[name.lower() for name in names.values()])
        .values_list("lower_name", flat=True)
    )
    lookalikes = set(
        RegisteredModel.objects.filter(name_skeleton__in=skeletons.values()).values_list("name_skeleton", flat=True)
    )
    now = clock.now()
    new: list[tuple[ImportedModel, RegisteredModel]] = []
    for index, item in enumerate(models):
        if index not in names:
            continue
        name = names[index]
        if name.lower() in taken:
            outcome.existing.append(item)
            continue
        if skeletons[index] in lookalikes:
            outcome.failed.append((item, LOOKALIKE_NAME.format(name=name)))
            continue
        created = item.created_at or now
        model = RegisteredModel(
            name=name,
            name_skeleton=skeletons[index],
            description=item.description.strip(),
            owner=actor,
            slug="pending",
            created_at=created,
            updated_at=max(item.updated_at or created, created),
        )
        try:
            model.attributes = _attributes(item.attributes)
            _validated(model, exclude=["owner"])  # the owner is actor: no query per model to check it exists
        except CatalogError as error:
            outcome.failed.append((item, str(error)))
            continue
        taken.add(name.lower())
        lookalikes.add(skeletons[index])
        new.append((item, model))
    for (_, model), slug in zip(new, _free_slugs([model.name for _, model in new]), strict=True):
        model.slug = slug
    try:
        with transaction.atomic():
            made = bulk.insert([model for _, model in new])
    except IntegrityError as error:
        raise CatalogError("Some of these models were registered at the same time; run the import again.") from error
    owner = ROLE_PERMISSIONS[Role.OWNER]
    perms = list(Permission.objects.filter(content_type__app_label="catalog", codename__in=owner))
    bulk.insert(
        [RegisteredModelUserObjectPermission(content_object=m, user=actor, permission=p) for m in made for p in perms]
    )
    permissions.grants_changed()
    record_activities(
        [
            ActivityEntry(
                actor=actor,
                verb=Verb.MODEL_REGISTERED,
                model=model,
                extra={"name": model.name, "imported": dict(item.origin)},
            )
            for item, model in new
        ]
    )
    outcome.created = made
    return outcome


@transaction.atomic
def import_versions(
    *, actor: User, versions: Sequence[ImportedVersion]
) -> ImportOutcome[ImportedVersion, ModelVersion]:
    """Register versions copied from another registry with their numbers, stages and times, one activity entry each,
    keeping each model's stage counts in step; a number the model already has is left as it is (existing), and a
    version actor may not register or that breaks a limit is refused (failed). Raises CatalogError (a race)."""
    outcome: ImportOutcome[ImportedVersion, ModelVersion] = ImportOutcome()
    access = permissions.Access(actor)
    model_ids = sorted({item.model.pk for item in versions})
    # Locked in key order, as every service that locks several models does.
    locked = {m.pk: m for m in RegisteredModel.objects.select_for_update().filter(pk__in=model_ids).order_by("pk")}
    access.prefetch(locked.values())
    numbers = {item.number for item in versions}
    names = {str(number) for number in numbers}
    have_numbers = set(
        ModelVersion.objects.filter(model_id__in=model_ids, number__in=numbers).values_list("model_id", "number")
    )
    have_names = set(
        ModelVersion.objects.filter(model_id__in=model_ids, name__in=names).values_list("model_id", "name")
    )
    now = clock.now()
    new: list[tuple[ImportedVersion, ModelVersion]] = []
    for item in versions:
        model = locked[item.model.pk]
        verdict = permissions.may_register_version(access, model)
        if not verdict:
            outcome.failed.append((item, verdict.reason))
            continue
        if (model.pk, item.number) in have_numbers:
            outcome.existing.append(item)
            continue
        name = str(item.number)
        if (model.pk, name) in have_names:
            outcome.failed.append((item, f"Another version of {model.name} is already named “{name}”."))
            continue
        created = item.created_at or now
        updated = max(item.updated_at or created, created)
        version = ModelVersion(
            model=model,
            name=name,
            number=item.number,
            stage=item.stage,
            description=item.description.strip(),
            artifact_uri=item.artifact_uri.strip(),
            source_run_url=item.source_run_url.strip(),
            run_id=item.run_id.strip(),
            created_by=actor,
            created_at=created,
            updated_at=updated,
            stage_changed_at=None if item.stage == Stage.UNASSIGNED else updated,
        )
        try:
            if item.number < 1:
                raise CatalogError(f"Version numbers start at 1, not {item.number}.")
            version.attributes = _attributes(item.attributes)
            _validated(version, exclude=["model", "created_by"])  # both known to exist: no query per version
        except CatalogError as error:
            outcome.failed.append((item, str(error)))
            continue
        have_numbers.add((model.pk, item.number))
        have_names.add((model.pk, name))
        new.append((item, version))
    try:
        with transaction.atomic():
            outcome.created = bulk.insert([version for _, version in new])
    except IntegrityError as error:
        raise CatalogError("Some of these versions were registered at the same time; run the import again.") from error
    # The counts and times of the touched models, in two statements the database computes (a per-row CASE from
    # bulk_update took seconds per thousand models); exact, as the models are locked.
    touched = {version.model_id for version in outcome.created}
    if touched:
        recount_stage_counts(model_ids=touched)
        newest = (
            ModelVersion.objects.filter(model=OuterRef("pk")).order_by().values("model").annotate(at=Max("updated_at"))
        )
        RegisteredModel.objects.filter(pk__in=touched).update(
            updated_at=Greatest("updated_at", Subquery(newest.values("at")))
        )
    record_activities(
        [
            ActivityEntry(
                actor=actor,
                verb=Verb.VERSION_REGISTERED,
                model=version.model,
                version=version,
                extra={"imported": dict(item.origin)},
            )
            for item, version in new
        ]
    )
    return outcome


@transaction.atomic
def import_aliases(*, actor: User, aliases: Sequence[ImportedAlias]) -> ImportOutcome[ImportedAlias, Alias]:
    """Set aliases copied from another registry, one activity entry each; an alias the model already has is left
    as it is (existing), one actor may not set or that breaks the naming rules is refused (failed)."""
    outcome: ImportOutcome[ImportedAlias, Alias] = ImportOutcome()
    access = permissions.Access(actor)
    model_ids = sorted({item.version.model_id for item in aliases})
    locked = {m.pk: m for m in RegisteredModel.objects.select_for_update().filter(pk__in=model_ids).order_by("pk")}
    access.prefetch(locked.values())
    have = set(
        Alias.objects.filter(model_id__in=model_ids, name__in={item.name.strip() for item in aliases}).values_list(
            "model_id", "name"
        )
    )
    new: list[tuple[ImportedAlias, Alias]] = []
    for item in aliases:
        model = locked[item.version.model_id]
        verdict = permissions.may_set_alias(access, model)
        if not verdict:
            outcome.failed.append((item, verdict.reason))
            continue
        try:
            name = _checked_alias(item.name)
        except CatalogError as error:
            outcome.failed.append((item, str(error)))
            continue
        if (model.pk, name) in have:
            outcome.existing.append(item)
            continue
        have.add((model.pk, name))
        new.append((item, Alias(model=model, name=name, version=item.version)))
    try:
        with transaction.atomic():
            outcome.created = bulk.insert([alias for _, alias in new])
    except IntegrityError as error:
        raise CatalogError("Some of these aliases were set at the same time; run the import again.") from error
    record_activities(
        [
            ActivityEntry(
                actor=actor,
                verb=Verb.ALIAS_SET,
                model=alias.model,
                version=alias.version,
                extra={"alias": alias.name, "imported": dict(item.origin)},
            )
            for item, alias in new
        ]
    )
    return outcome
