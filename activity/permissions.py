"""Who may write to a model's activity log by hand (comments); everyone who can view a model can read its log."""

from __future__ import annotations

from catalog import permissions as catalog_permissions
from catalog.models import RegisteredModel
from catalog.permissions import AnyUser


def can_comment(user: AnyUser, model: RegisteredModel) -> bool:
    """Whether user may comment on model's versions: its collaborators who act on it (Editors, Reviewers, Owners)."""
    return catalog_permissions.can_edit_model(user, model) or catalog_permissions.can_review_stage_change(user, model)
