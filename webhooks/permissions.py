"""Who may manage webhooks: a model's Owners its webhooks; superusers the registry-wide ones."""

from __future__ import annotations

from catalog.models import RegisteredModel
from catalog.permissions import ALLOWED, MANAGE, Verdict, Who, access_of, refused


def may_manage_webhooks(who: Who, model: RegisteredModel | None) -> Verdict:
    """Owners of model may create, change and delete its webhooks and read their deliveries; registry-wide webhooks
    (model None) are for superusers."""
    access = access_of(who)
    if model is None:
        user = access.user
        if access.is_active and getattr(user, "is_superuser", False):
            return ALLOWED
        return refused("Only administrators can manage registry-wide webhooks.")
    if access.holds(model, MANAGE):
        return ALLOWED
    return refused("Only owners of this model can manage its webhooks.")
