"""The log's hash chain: the database links every entry, and verify_activity_log finds each kind of tampering that
someone with the database's superuser can do with raw SQL (edit, delete, insert, reorder, rewrite the chain)."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections, transaction

from activity import chain
from activity.db import CHAIN_TABLE, TABLE, install_triggers, remove_triggers
from activity.models import GENESIS_HASH, ActivityEntry, ChainLink, Verb, Verification
from activity.services import comment_on_version, record_activity
from catalog.models import ModelVersion, RegisteredModel
from tests.factories import ModelFactory, UserFactory, VersionFactory
from tests.helpers import activity_url, client_for


@pytest.fixture(autouse=True)
def _linked_as_committed(db: None) -> None:
    """Link entries as they are written, as their commit would: the tests' transactions are never committed."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS activity_entry_chain IMMEDIATE")


@pytest.fixture
def log(version: ModelVersion, editor: Any) -> list[ActivityEntry]:
    """Ten entries and more: the model's registration and collaborators, the version's, and comments."""
    for n in range(6):
        comment_on_version(actor=editor, version=version, comment=f"Comment {n} — ünïcode, 'quotes'\nand a line")
    return list(ActivityEntry.objects.order_by("pk"))


def _raw(sql: str, params: list[Any] | None = None) -> None:
    """Run sql as the superuser the tests connect as, with every trigger off: what the owner of the database can do."""
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
            cursor.execute(sql, params)
        else:
            remove_triggers(connection)
            cursor.execute(sql, params)
            install_triggers(connection)


def _verify(*args: str) -> str:
    try:
        call_command("verify_activity_log", *args, stdout=(out := _Out()))
    except CommandError as error:
        return f"FAILED {error}"
    return out.text


class _Out:
    def __init__(self) -> None:
        self.text = ""

    def write(self, text: str) -> None:
        self.text += text

    def flush(self) -> None:
        pass


def _position(entry: ActivityEntry) -> int:
    return ChainLink.objects.get(entry_id=entry.pk).seq


# The chain as written


def test_every_entry_is_linked_in_order_from_the_genesis(log: list[ActivityEntry]) -> None:
    links = list(ChainLink.objects.order_by("seq"))

    assert [link.seq for link in links] == list(range(1, len(log) + 1))
    assert sorted(link.entry_id for link in links) == [entry.pk for entry in log]
    assert links[0].prev_hash == GENESIS_HASH
    assert all(later.prev_hash == earlier.entry_hash for earlier, later in itertools.pairwise(links))
    finding = chain.verify()
    assert finding.ok
    assert finding.checked == len(log)
    assert finding.up_to_seq == len(log)


def test_the_database_hashes_as_the_python_verifier_does(owner: Any, model: RegisteredModel) -> None:
    """Every field counts, written by the database's trigger and recomputed in Python: the two agree."""
    entry = record_activity(
        actor=owner,
        verb=Verb.MODEL_EDITED,
        model=model,
        comment="length-prefixed: 3:abc\u2028 and an emoji 🙂",
        extra={"fields": ["description"], "nested": {"b": 1, "a": [1.5, None, True]}, "ß": "straße"},
    )
    link = ChainLink.objects.get(entry_id=entry.pk)
    row = chain._entries([entry.pk])[entry.pk]

    values = [link.seq, link.prev_hash] + [
        row["extra_text"] if name == "extra" else row[name] for name in chain.CANONICAL_FIELDS[2:]
    ]
    assert chain.link_hash(values) == link.entry_hash
    assert chain.verify().ok


def test_verify_records_the_result_and_prints_a_checkpoint(log: list[ActivityEntry]) -> None:
    out = _verify()

    head = ChainLink.objects.order_by("-seq").first()
    assert head is not None
    assert f"intact: {len(log)} entries, up to entry {head.entry_id} (position {head.seq})" in out
    assert f"Checkpoint: {head.seq}:{head.entry_hash}" in out
    verification = Verification.objects.get()
    assert (verification.ok, verification.up_to_seq, verification.head_hash) == (True, head.seq, head.entry_hash)


def test_the_activity_page_says_when_the_log_was_last_verified(log: list[ActivityEntry], editor: Any) -> None:
    assert "has not been verified yet" in client_for(editor).get(activity_url()).text
    _verify()

    page = client_for(editor).get(activity_url()).text

    assert "Log verified" in page
    assert f"up to entry {log[-1].pk} ({len(log)} entries" in page


# Tampering, each kind with raw SQL as the superuser


def test_an_edited_entry_is_found(log: list[ActivityEntry], editor: Any) -> None:
    victim = log[-3]
    _raw(f"UPDATE {TABLE} SET comment = 'Approved by nobody' WHERE id = %s", [victim.pk])

    out = _verify()

    assert out.startswith("FAILED The activity log was tampered with.")
    assert f"Entry {victim.pk} (position {_position(victim)}) does not match its hash" in out
    assert f"Intact up to position {_position(victim) - 1}" in out
    verification = Verification.objects.get()
    assert not verification.ok
    assert verification.up_to_seq == _position(victim) - 1
    page = client_for(editor).get(activity_url()).text
    assert "The log failed verification" in page
    assert f"Entry {victim.pk}" in page


def test_a_back_dated_entry_is_found(log: list[ActivityEntry]) -> None:
    victim = log[-2]
    _raw(f"UPDATE {TABLE} SET created_at = %s WHERE id = %s", [victim.created_at - timedelta(days=365), victim.pk])

    assert f"Entry {victim.pk} (position {_position(victim)}) does not match its hash" in _verify()


def test_a_deleted_entry_is_found(log: list[ActivityEntry]) -> None:
    victim = log[4]
    _raw(f"DELETE FROM {TABLE} WHERE id = %s", [victim.pk])

    assert f"Entry {victim.pk} (position {_position(victim)}) is missing from the log (deleted)" in _verify()


def test_a_deleted_entry_and_its_link_are_found(log: list[ActivityEntry]) -> None:
    victim = log[4]
    seq = _position(victim)
    _raw(f"DELETE FROM {CHAIN_TABLE} WHERE entry_id = %s", [victim.pk])
    _raw(f"DELETE FROM {TABLE} WHERE id = %s", [victim.pk])

    assert f"Position {seq} is missing: the chain goes from {seq - 1} to {seq + 1}" in _verify()


def test_an_entry_inserted_around_the_triggers_is_found(log: list[ActivityEntry], owner: Any) -> None:
    _raw(
        f"INSERT INTO {TABLE} (created_at, actor_id, actor_username, verb, model_id, model_name, from_stage, "
        "to_stage, comment, extra, version_name) VALUES (%s, %s, 'owner', 'stage_changed', %s, 'Churn Predictor', "
        "'staging', 'production', '', '{}', '')",
        [log[0].created_at, owner.pk, log[0].model_id],
    )
    forged = ActivityEntry.objects.order_by("-pk").first()
    assert forged is not None

    assert f"Entry {forged.pk} is not in the chain: it was inserted around the database's triggers" in _verify()


def test_a_forged_link_squeezed_into_the_chain_is_found(log: list[ActivityEntry], owner: Any) -> None:
    """A forger who inserts an entry and moves the later links up by one breaks the next link's previous hash."""
    _raw(f"UPDATE {CHAIN_TABLE} SET seq = seq + 1000 WHERE seq > 3")
    _raw(f"UPDATE {CHAIN_TABLE} SET seq = seq - 999 WHERE seq > 1000")
    record = ChainLink.objects.get(seq=3)
    _raw(
        f"INSERT INTO {TABLE} (created_at, actor_id, actor_username, verb, model_id, model_name, from_stage, "
        "to_stage, comment, extra, version_name) VALUES (%s, %s, 'owner', 'commented', %s, 'Churn Predictor', "
        "'', '', 'forged', '{}', '')",
        [log[0].created_at, owner.pk, log[0].model_id],
    )
    forged = ActivityEntry.objects.get(comment="forged")
    _raw(
        f"INSERT INTO {CHAIN_TABLE} (seq, entry_id, prev_hash, entry_hash) VALUES (4, %s, %s, %s)",
        [forged.pk, record.entry_hash, "f" * 64],
    )

    assert f"Entry {forged.pk} (position 4) does not match its hash" in _verify()


def test_two_entries_swapped_are_found(log: list[ActivityEntry]) -> None:
    first, second = log[-4], log[-3]
    _raw(f"UPDATE {CHAIN_TABLE} SET entry_id = -1 WHERE entry_id = %s", [first.pk])
    _raw(f"UPDATE {CHAIN_TABLE} SET entry_id = %s WHERE entry_id = %s", [first.pk, second.pk])
    _raw(f"UPDATE {CHAIN_TABLE} SET entry_id = %s WHERE entry_id = -1", [second.pk])

    out = _verify()

    assert f"Entry {second.pk} (position {_position(second)}) does not match its hash" in out


def test_a_chain_rewritten_from_an_edit_onwards_is_found_by_an_earlier_verification(log: list[ActivityEntry]) -> None:
    """The owner of the database can recompute every later link after an edit; the head an earlier verification
    recorded (or a checkpoint copied elsewhere) no longer matches."""
    checkpoint = _verify().split("Checkpoint: ")[1].strip()
    victim = log[3]
    _raw(f"UPDATE {TABLE} SET comment = 'rewritten' WHERE id = %s", [victim.pk])
    _rewrite_chain_from(_position(victim))
    assert chain.verify(checkpoints=[]).ok is False  # the earlier verification's record disagrees

    Verification.objects.all().delete()  # the forger removes that record too
    assert chain.verify().ok  # the chain itself is consistent again
    out = _verify("--checkpoint", checkpoint)
    assert f"Position {checkpoint.split(':')[0]} has hash" in out
    assert "as the checkpoint given recorded: the chain was rewritten since" in out


def _rewrite_chain_from(seq: int) -> None:
    links = list(ChainLink.objects.filter(seq__gte=seq).order_by("seq"))
    rows = chain._entries([link.entry_id for link in links])
    head = ChainLink.objects.get(seq=seq - 1).entry_hash
    _raw(f"DELETE FROM {CHAIN_TABLE} WHERE seq >= %s", [seq])
    for link in links:
        row = rows[link.entry_id]
        digest = chain.link_hash(
            [link.seq, head] + [row["extra_text"] if n == "extra" else row[n] for n in chain.CANONICAL_FIELDS[2:]]
        )
        _raw(f"INSERT INTO {CHAIN_TABLE} VALUES (%s, %s, %s, %s)", [link.seq, link.entry_id, head, digest])
        head = digest


def test_a_bad_checkpoint_argument_is_refused() -> None:
    with pytest.raises(CommandError, match="A checkpoint is position:hash"):
        call_command("verify_activity_log", "--checkpoint", "12:nothex")
    assert not Verification.objects.exists()


def test_an_empty_log_verifies(db: None) -> None:
    assert "The activity log is empty" in _verify()


# Commits and concurrent writers (PostgreSQL: links are written as the transaction commits)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_entries_are_linked_when_their_transaction_commits() -> None:
    owner = UserFactory.create(username="owner")
    model = ModelFactory.create(owner=owner, name="Churn Predictor")
    linked_before = ChainLink.objects.count()
    with transaction.atomic():
        entry = record_activity(actor=owner, verb=Verb.MODEL_EDITED, model=model)
        assert not ChainLink.objects.filter(entry_id=entry.pk).exists()

    assert ChainLink.objects.get(entry_id=entry.pk).seq == linked_before + 1
    assert chain.verify().ok


def _in_threads(count: int, work: Callable[[int], None]) -> list[BaseException]:
    errors: list[BaseException] = []
    start = threading.Barrier(count)

    def run(n: int) -> None:
        try:
            start.wait()
            work(n)
        except BaseException as error:  # reported by the test
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_do_not_fork_the_chain() -> None:
    """8 threads, each with its own connection, write 25 entries each, one transaction apiece, and some in twos."""
    owner = UserFactory.create(username="owner")
    model = ModelFactory.create(owner=owner, name="Churn Predictor")
    versions = [VersionFactory.create(model=model, name=f"v{n}", created_by=owner) for n in range(8)]
    before = ActivityEntry.objects.count()

    def write(n: int) -> None:
        for i in range(25):
            if i % 5 == 0:
                with transaction.atomic():  # two entries in one transaction stay next to each other
                    record_activity(actor=owner, verb=Verb.COMMENTED, model=model, version=versions[n], comment="a")
                    record_activity(actor=owner, verb=Verb.COMMENTED, model=model, version=versions[n], comment="b")
            else:
                comment_on_version(actor=owner, version=versions[n], comment=f"thread {n} entry {i}")

    assert _in_threads(8, write) == []

    total = ActivityEntry.objects.count()
    assert total == before + 8 * (20 + 5 * 2)
    links = list(ChainLink.objects.order_by("seq").values_list("seq", "prev_hash", "entry_hash"))
    assert [seq for seq, _, _ in links] == list(range(1, total + 1))  # one line, no gap, no fork
    assert len({prev for _, prev, _ in links}) == total  # no two links follow the same one
    finding = chain.verify()
    assert finding.ok
    assert finding.checked == total
