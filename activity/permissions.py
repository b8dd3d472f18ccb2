"""Who may write to a model's activity log by hand (comments); everyone who can view a model can read its log."""

from __future__ import annotations

from catalog.models import RegisteredModel
from catalog.permissions import ALLOWED, EDIT, REVIEW, Verdict, Who, access_of, refused


def may_comment(who: Who, model: RegisteredModel) -> Verdict:
    """The collaborators who act on a model (Editors, Reviewers, Owners) may comment on its versions."""
    access = access_of(who)
    if access.holds(model, EDIT) or access.holds(model, REVIEW):
        return ALLOWED
    return refused("Only editors, reviewers and owners of this model can comment on its versions.")
