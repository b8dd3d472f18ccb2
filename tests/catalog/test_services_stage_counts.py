"""The per-stage version counts kept on the model row: registering, moving and recounting keep them true."""

from __future__ import annotations

from typing import Any

import pytest

from catalog.models import STAGE_ORDER, ModelVersion, RegisteredModel, Stage, stage_count_field
from catalog.services import CatalogError, apply_stage_change, recount_stage_counts, register_version
from tests.helpers import LONG_AGO, backdate, database_state, updated_at


def _counts(model: RegisteredModel) -> dict[str, int]:
    row = RegisteredModel.objects.get(pk=model.pk)
    return {
        stage.value: getattr(row, stage_count_field(stage))
        for stage in STAGE_ORDER
        if getattr(row, stage_count_field(stage))
    }


def test_register_version_counts_the_new_version_as_unassigned(model: RegisteredModel, owner: Any) -> None:
    register_version(actor=owner, model=model, name="v1")
    register_version(actor=owner, model=model, name="v2")

    assert _counts(model) == {"unassigned": 2}


def test_apply_stage_change_moves_the_version_and_its_count(model: RegisteredModel, version: ModelVersion) -> None:
    backdate(model)

    left = apply_stage_change(version=version, to_stage=Stage.PRODUCTION)

    version.refresh_from_db()
    assert left == Stage.UNASSIGNED
    assert version.stage == Stage.PRODUCTION
    assert version.stage_changed_at is not None
    assert _counts(model) == {"production": 1}
    assert updated_at(model) > LONG_AGO


def test_apply_stage_change_to_the_current_stage_is_refused(model: RegisteredModel, version: ModelVersion) -> None:
    before = database_state()

    with pytest.raises(CatalogError, match="already in Unassigned"):
        apply_stage_change(version=version, to_stage=Stage.UNASSIGNED)

    assert database_state() == before


def test_recount_stage_counts_repairs_drifted_counts(owner: Any, model: RegisteredModel, org_model: Any) -> None:
    for name in ["v1", "v2", "v3"]:
        register_version(actor=owner, model=model, name=name)
    register_version(actor=owner, model=org_model, name="v1")
    ModelVersion.objects.filter(model=model, name="v1").update(stage=Stage.STAGING)
    ModelVersion.objects.filter(model=org_model).update(stage=Stage.ARCHIVED)

    recount_stage_counts(model_ids=[model.pk])

    assert _counts(model) == {"unassigned": 2, "staging": 1}
    assert _counts(org_model) == {"unassigned": 1}

    recount_stage_counts()

    assert _counts(org_model) == {"archived": 1}
