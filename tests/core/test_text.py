"""Which text no database column can hold: NUL characters and unpaired surrogates, found anywhere in JSON."""

from __future__ import annotations

from core.text import first_unstorable, unstorable


def test_unstorable_names_nul_and_unpaired_surrogates() -> None:
    assert unstorable("plain text, ünïcode 🚀") is None
    assert "NUL" in (unstorable("a\x00b") or "")
    assert "surrogate" in (unstorable("a\ud800b") or "")
    assert first_unstorable({"labels": ["ok", "b\x00d"]}) == ("labels.1", unstorable("\x00"))
    assert first_unstorable({"attributes": {"k\x00": "v"}}) == ("attributes", unstorable("\x00"))
    assert first_unstorable({"a": [1, None, {"b": "fine"}]}) is None
