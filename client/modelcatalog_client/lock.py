"""Lock levels of a version, as in Verta's `verta.registry.lock`: `model_ver.set_lock_level(lock.closed)`.

Who may raise or lower a lock, and what a lock forbids, is the server's to decide; it says why when it refuses.
"""

from __future__ import annotations

from typing import ClassVar


class _LockLevel:
    _LOCK_LEVEL: ClassVar[str]

    @property
    def value(self) -> str:
        """The lock level as the API names it: open, closed or redact."""
        return self._LOCK_LEVEL

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _LockLevel) and other.value == self.value

    def __hash__(self) -> int:
        return hash(self._LOCK_LEVEL)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Open(_LockLevel):
    """Changes to the version are allowed."""

    _LOCK_LEVEL = "open"


class Closed(_LockLevel):
    """The version's stage cannot change while it is closed."""

    _LOCK_LEVEL = "closed"


class Redact(_LockLevel):
    """Closed, and its artifact's location is shown only to those the server allows."""

    _LOCK_LEVEL = "redact"


# Verta's names, even though `open` hides the builtin inside this module.
open = Open()
closed = Closed()
redact = Redact()

_BY_VALUE: dict[str, _LockLevel] = {level.value: level for level in (open, closed, redact)}


def _from_value(value: str) -> _LockLevel:
    """The lock level the API names value."""
    try:
        return _BY_VALUE[value]
    except KeyError:
        raise ValueError(f"unknown lock level {value!r}") from None


__all__ = ["Closed", "Open", "Redact", "closed", "open", "redact"]
