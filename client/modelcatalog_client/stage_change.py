"""The stages a version can be asked to move to, as in Verta's `verta.registry.stage_change`.

    from modelcatalog_client.stage_change import Staging
    change_request = model_ver.change_stage(Staging("Undergoing final testing."))

Unlike Verta's client, `change_stage` never bypasses approval: it files a stage-change request, which applies once
enough reviewers approve it. Which moves are allowed is the server's to decide; any stage may be asked for.
"""

from __future__ import annotations

from typing import ClassVar


class _StageChange:
    """A stage to move a version to, with an optional comment for the reviewers and the activity log."""

    _STAGE: ClassVar[str]

    def __init__(self, comment: str | None = None) -> None:
        if not hasattr(type(self), "_STAGE"):
            raise TypeError("use one of Unassigned, Development, Staging, Production or Archived")
        if comment is not None and not isinstance(comment, str):
            raise TypeError(f"`comment` must be type str, not {type(comment)}")
        self._comment = comment

    @property
    def comment(self) -> str | None:
        return self._comment

    @property
    def stage(self) -> str:
        """The stage as the API names it: unassigned, development, staging, production or archived."""
        return self._STAGE

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._comment!r})"


class Unassigned(_StageChange):
    """Back to Unassigned, where new versions start.

    Example: `Unassigned("Registered under the wrong model.")`
    """

    _STAGE = "unassigned"


class Development(_StageChange):
    """Still being iterated on.

    Example: `Development("Working on it.")`
    """

    _STAGE = "development"


class Staging(_StageChange):
    """A release candidate, going through final checks.

    Example: `Staging("Undergoing final testing.")`
    """

    _STAGE = "staging"


class Production(_StageChange):
    """Serving users.

    Example: `Production("Rolling out to prod.")`
    """

    _STAGE = "production"


class Archived(_StageChange):
    """No longer used.

    Example: `Archived("Deprioritized; keeping for posterity.")`
    """

    _STAGE = "archived"


__all__ = ["Archived", "Development", "Production", "Staging", "Unassigned"]
