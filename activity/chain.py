"""The activity log's hash chain: what an entry's hash covers, and walking the chain to find tampering.

Each entry has a link (ChainLink): its position seq (1, 2, 3… in commit order), the previous link's hash and its
own hash, SHA-256 of the previous hash and the entry's canonical content. The database writes the links
(activity.db), so no writer can skip them; verify() recomputes every hash from the entries as they are now.

Canonical content: the fields of CANONICAL_FIELDS, each as text written `<length>:<text>` and concatenated, so that
no choice of text in one field can imitate another. Numbers are decimal, an absent id is empty, the time is UTC
`YYYY-MM-DDTHH:MM:SS.ffffff`, and `extra` is the database's own text of the JSON (jsonb's normal form on
PostgreSQL, the stored text on SQLite), read back with a cast rather than re-serialised in Python.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db.models import Exists, OuterRef, TextField
from django.db.models.functions import Cast
from django.utils.dateparse import parse_datetime

CANONICAL_FIELDS = (
    "seq",
    "prev_hash",
    "id",
    "created_at",
    "actor_id",
    "actor_username",
    "verb",
    "model_id",
    "model_name",
    "version_id",
    "version_name",
    "from_stage",
    "to_stage",
    "comment",
    "extra",
)
SQLITE_HASH_FUNCTION = "activity_link_hash"
CHUNK = 2_000


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")
    return str(value)


def link_hash(values: Sequence[Any]) -> str:
    """The hash of one link: values are CANONICAL_FIELDS' values in order (prev_hash among them)."""
    content = "".join(f"{len(text)}:{text}" for text in map(_text, values))
    return hashlib.sha256(content.encode("utf-8")).hexdigest()


def sqlite_link_hash(seq: int, prev_hash: str, entry_id: int, created_at: str, *rest: Any) -> str:
    """link_hash as SQLite's chaining trigger calls it: the time comes as the stored text (naive UTC)."""
    moment = parse_datetime(created_at)
    assert moment is not None, f"unreadable time {created_at!r}"
    return link_hash([seq, prev_hash, entry_id, moment.replace(tzinfo=UTC), *rest])


# Verifying ---------------------------------------------------------------------------------------------------------


@dataclass
class Finding:
    ok: bool
    checked: int  # links checked
    up_to_seq: int  # the last position found intact
    up_to_entry: int | None
    head_hash: str  # that position's hash
    problem: str = ""


def _links(after: int) -> Iterator[list[Any]]:
    from activity.models import ChainLink

    while True:
        chunk = list(ChainLink.objects.filter(seq__gt=after).order_by("seq")[:CHUNK])
        if not chunk:
            return
        yield chunk
        after = chunk[-1].seq


def _entries(ids: list[int]) -> dict[int, dict[str, Any]]:
    from activity.models import ActivityEntry

    columns = [name for name in CANONICAL_FIELDS[2:] if name != "extra"]
    rows = ActivityEntry.objects.filter(pk__in=ids).annotate(extra_text=Cast("extra", TextField()))
    return {row["id"]: row for row in rows.values(*columns, "extra_text")}


def verify(*, checkpoints: Sequence[tuple[int, str]] = ()) -> Finding:
    """Walk the chain from position 1, a chunk at a time, and report the first link that does not hold: an entry
    edited (its hash differs), deleted (missing), inserted or moved (a gap, or a previous hash that differs), an
    entry outside the chain, or a chain that no longer has the hash of a checkpoint (seq, hash) or of an earlier
    verification (rewritten after them)."""
    from activity.models import GENESIS_HASH, ActivityEntry, ChainLink, Verification

    last_seq, last_hash, last_entry, checked = 0, GENESIS_HASH, None, 0

    def found(problem: str) -> Finding:
        return Finding(False, checked, last_seq, last_entry, last_hash, problem)

    for chunk in _links(after=0):
        entries = _entries([link.entry_id for link in chunk])
        for link in chunk:
            checked += 1
            if link.seq != last_seq + 1:
                return found(
                    f"Position {last_seq + 1} is missing: the chain goes from {last_seq} to {link.seq} "
                    "(a link was deleted)."
                )
            if link.prev_hash != last_hash:
                return found(
                    f"Entry {link.entry_id} (position {link.seq}) does not follow position {last_seq}: its previous "
                    "hash differs (an entry was deleted, inserted or moved there)."
                )
            row = entries.get(link.entry_id)
            if row is None:
                return found(f"Entry {link.entry_id} (position {link.seq}) is missing from the log (deleted).")
            values = [link.seq, link.prev_hash] + [
                row["extra_text"] if name == "extra" else row[name] for name in CANONICAL_FIELDS[2:]
            ]
            if link_hash(values) != link.entry_hash:
                return found(
                    f"Entry {link.entry_id} (position {link.seq}) does not match its hash: it was changed after it "
                    "was written."
                )
            last_seq, last_hash, last_entry = link.seq, link.entry_hash, link.entry_id
    outside = (
        ActivityEntry.objects.filter(~Exists(ChainLink.objects.filter(entry_id=OuterRef("pk"))))
        .order_by("pk")
        .values_list("pk", flat=True)
        .first()
    )
    if outside is not None:
        return found(f"Entry {outside} is not in the chain: it was inserted around the database's triggers.")
    # Earlier verifications recorded the head they saw: a chain rewritten from the start would pass every check
    # above, but not keep those hashes (nor a checkpoint an operator copied elsewhere).
    earlier = Verification.objects.filter(ok=True, up_to_seq__gt=0).order_by("-checked_at", "-id")[:100]
    expected = [(v.up_to_seq, v.head_hash, f"the verification of {v.checked_at:%Y-%m-%d %H:%M} UTC") for v in earlier]
    known: dict[int, str] = {}
    expected[:0] = [(seq, head, "the checkpoint given") for seq, head in checkpoints]
    for seq, head, source in expected:
        if seq not in known:
            known[seq] = ChainLink.objects.filter(seq=seq).values_list("entry_hash", flat=True).first() or ""
        if known[seq] != head:
            return found(
                f"Position {seq} has hash {known[seq][:16] or '(none)'}…, not {head[:16]}… as {source} recorded: "
                "the chain was rewritten since."
            )
    return Finding(True, checked, last_seq, last_entry, last_hash)
