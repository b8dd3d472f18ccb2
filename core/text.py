"""Text that a database cannot store: NUL characters (PostgreSQL refuses them) and lone UTF-16 surrogates."""

from __future__ import annotations

from typing import Any

NUL = "\x00"


def unstorable(text: str) -> str | None:
    """Why text cannot be stored, in a sentence fit to show a user; None when it can."""
    if NUL in text:
        return "Text may not contain NUL (\\u0000) characters."
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "Text may not contain unpaired surrogate characters (\\ud800–\\udfff)."
    return None


def first_unstorable(data: Any, *, path: tuple[str, ...] = ()) -> tuple[str, str] | None:
    """The dotted location and the reason of the first unstorable key or string in decoded JSON, or None."""
    if isinstance(data, str):
        reason = unstorable(data)
        return (".".join(path), reason) if reason else None
    if isinstance(data, dict):
        for key, value in data.items():
            found = first_unstorable(str(key), path=path) or first_unstorable(value, path=(*path, str(key)))
            if found:
                return found
    if isinstance(data, list):
        for index, value in enumerate(data):
            found = first_unstorable(value, path=(*path, str(index)))
            if found:
                return found
    return None
