"""`find`: the parser, its error messages, and what each key and operator selects on the database."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from django.db import connection
from django.db.models import Q, QuerySet
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from approvals.services import set_lock_level
from catalog.find import (
    EXAMPLES,
    MAX_LENGTH,
    MAX_PREDICATES,
    MODEL_EXAMPLES,
    MODEL_KEYS,
    NUMBER_MAX_LENGTH,
    NUMBER_PATTERN,
    OPERATORS,
    VERSION_KEYS,
    FindError,
    Predicate,
    filter_models,
    filter_versions,
    parse,
)
from catalog.models import LockLevel, ModelVersion, RegisteredModel, Stage
from catalog.permissions import Role
from catalog.selectors import visible_models, visible_versions
from catalog.services import add_collaborator, edit_version
from core import clock
from tests.factories import ModelFactory, UserFactory, VersionFactory
from tests.helpers import set_stage

VERSION_KEY_LIST = (
    "attributes.<key>, labels, lock_level, model, name, owner, stage, time_created, time_updated, version"
)
MODEL_KEY_LIST = "data_type, labels, name, owner, task_type, time_created, time_updated, visibility"


def one(text: str, keys: Any = VERSION_KEYS) -> Predicate:
    (predicate,) = parse(text, keys=keys)
    return predicate


# --- Parsing ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("op", OPERATORS)
def test_every_operator_parses(op: str) -> None:
    assert parse(f"attributes.auc {op} 0.9", keys=VERSION_KEYS) == [
        Predicate(key="attributes.auc", op=op, value="0.9", position=0)
    ]


@pytest.mark.parametrize(
    "text",
    [
        "stage == staging",
        "stage==staging",
        "stage ==staging",
        "stage== staging",
        "  stage \t==\n staging  ",
        "stage\u00a0==\u00a0staging",
    ],
)
def test_spaces_around_the_operator_are_optional(text: str) -> None:
    predicate = one(text)
    assert (predicate.key, predicate.op, predicate.value) == ("stage", "==", "staging")


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("name == 'v1 final'", "v1 final"),
        ('name == "v1 final"', "v1 final"),
        ("name == 'it\\'s'", "it's"),
        ('name == "say \\"hi\\""', 'say "hi"'),
        ('name == "it\'s"', "it's"),
        ("name == 'back\\\\'", "back\\"),
        ("name == 'C:\\models'", "C:\\models"),
        ("name == ''", ""),
        ("name == '  spaced  '", "  spaced  "),
        ("name == 'a == b and c'", "a == b and c"),
        ("name == v1.2-rc_3", "v1.2-rc_3"),
    ],
)
def test_values_bare_or_quoted(text: str, value: str) -> None:
    predicate = one(text)
    assert predicate.value == value
    assert predicate.quoted == ("'" in text or '"' in text)


def test_attribute_keys_may_be_quoted_for_spaces() -> None:
    assert one("attributes.'learning rate' < 0.1").key == "attributes.learning rate"
    assert one('attributes."x" == 1').key == "attributes.x"


@pytest.mark.parametrize("keyword", ["and", "AND", "And", "aNd"])
def test_predicates_join_with_and_in_any_case(keyword: str) -> None:
    text = f"stage == staging {keyword} labels == nlp {keyword}  version=='v 2'"
    assert parse(text, keys=VERSION_KEYS) == [
        Predicate(key="stage", op="==", value="staging", position=0),
        Predicate(key="labels", op="==", value="nlp", position=21),
        Predicate(key="version", op="==", value="v 2", position=40, quoted=True),
    ]


def test_and_may_be_a_value() -> None:
    assert [p.value for p in parse("name == and and labels == and", keys=VERSION_KEYS)] == ["and", "and"]


@pytest.mark.parametrize("text", ["", " ", "\t\n  "])
def test_blank_means_no_filter(text: str) -> None:
    assert parse(text, keys=VERSION_KEYS) == []


def test_the_limits_are_inclusive() -> None:
    assert len(parse(" and ".join(["stage == staging"] * MAX_PREDICATES), keys=VERSION_KEYS)) == MAX_PREDICATES
    assert parse("name == " + "x" * (MAX_LENGTH - 8), keys=VERSION_KEYS)[0].value == "x" * (MAX_LENGTH - 8)


def test_examples_parse() -> None:
    for text in EXAMPLES:
        assert parse(text, keys=VERSION_KEYS)
    for text in MODEL_EXAMPLES:
        assert parse(text, keys=MODEL_KEYS)


ERRORS = [
    ("stagee == staging", VERSION_KEYS, f"unknown key `stagee` at character 1; keys are: {VERSION_KEY_LIST}", 0, None),
    ("Stage == staging", VERSION_KEYS, f"unknown key `Stage` at character 1; keys are: {VERSION_KEY_LIST}", 0, None),
    (
        "attributes.auc > 1",
        MODEL_KEYS,
        f"unknown key `attributes.auc` at character 1; keys are: {MODEL_KEY_LIST}",
        0,
        None,
    ),
    (
        "x" * 50 + " == 1",
        MODEL_KEYS,
        f"unknown key `{'x' * 39}…` at character 1; keys are: {MODEL_KEY_LIST}",
        0,
        None,
    ),
    (
        "name == 'a\nb' and stage == 'in\nreview'",
        VERSION_KEYS,
        "unknown stage `in review`; stages are: unassigned, development, staging, production, archived",
        27,
        "stage",
    ),
    ("stage production", VERSION_KEYS, "expected an operator after `stage` at character 7", 6, "stage"),
    ("stage", VERSION_KEYS, "expected an operator after `stage` at character 6", 5, "stage"),
    ('model == "churn', VERSION_KEYS, "unterminated quote at character 10", 9, "model"),
    ("name == 'it\\'s", VERSION_KEYS, "unterminated quote at character 9", 8, "name"),
    ("attributes.'auc > 1", VERSION_KEYS, "unterminated quote at character 12", 11, None),
    ("stage < staging", VERSION_KEYS, "`<` does not apply to `stage`; use == or !=", 6, "stage"),
    ("stage ~= stag", VERSION_KEYS, "`~=` does not apply to `stage`; use == or !=", 6, "stage"),
    ("name < v2", VERSION_KEYS, "`<` does not apply to `name`; use ==, != or ~=", 5, "name"),
    ("owner >= a", VERSION_KEYS, "`>=` does not apply to `owner`; use ==, != or ~=", 6, "owner"),
    (
        "time_created ~= 2026",
        VERSION_KEYS,
        "`~=` does not apply to `time_created`; use ==, !=, <, <=, > or >=",
        13,
        "time_created",
    ),
    (
        "stage == prod",
        VERSION_KEYS,
        "unknown stage `prod`; stages are: unassigned, development, staging, production, archived",
        9,
        "stage",
    ),
    (
        "lock_level == locked",
        VERSION_KEYS,
        "unknown lock level `locked`; lock levels are: open, closed, redact",
        14,
        "lock_level",
    ),
    (
        "task_type == 'Image'",
        MODEL_KEYS,
        "unknown task type `Image`; task types are: classification, clustering, detection, regression, "
        "transcription, translation, other, unknown",
        13,
        "task_type",
    ),
    (
        "data_type != sound",
        MODEL_KEYS,
        "unknown data type `sound`; data types are: audio, image, tabular, text, video, other, unknown",
        13,
        "data_type",
    ),
    (
        "visibility == public",
        MODEL_KEYS,
        "unknown visibility `public`; visibilities are: organization, private",
        14,
        "visibility",
    ),
    ('lock_level == "closed" stage == staging', VERSION_KEYS, "expected `and` at character 24", 23, None),
    ("stage == staging or name == v1", VERSION_KEYS, "expected `and` at character 18", 17, None),
    ("stage == staging andname == v1", VERSION_KEYS, "expected `and` at character 18", 17, None),
    ("name == v1==v2", VERSION_KEYS, "expected `and` at character 11", 10, None),
    ("== staging", VERSION_KEYS, "expected a key at character 1", 0, None),
    ("stage == staging and", VERSION_KEYS, "expected a key at character 21", 20, None),
    ("stage == staging and  ", VERSION_KEYS, "expected a key at character 23", 22, None),
    ("stage ==", VERSION_KEYS, "expected a value after `==` at character 9", 8, "stage"),
    (
        "stage = staging",
        VERSION_KEYS,
        "unknown operator `=` at character 7; operators are: ==, !=, <, <=, >, >=, ~=",
        6,
        "stage",
    ),
    (
        "stage === staging",
        VERSION_KEYS,
        "unknown operator `===` at character 7; operators are: ==, !=, <, <=, >, >=, ~=",
        6,
        "stage",
    ),
    ("attributes. > 1", VERSION_KEYS, "expected an attribute key after `attributes.` at character 12", 11, None),
    ("attributes.auc > abc", VERSION_KEYS, "`>` on `attributes.auc` needs a number, not `abc`", 17, "attributes.auc"),
    (
        "attributes.auc <= 1e400",
        VERSION_KEYS,
        "`<=` on `attributes.auc` needs a number, not `1e400`",
        18,
        "attributes.auc",
    ),
    ("attributes.'a\"b' == 1", VERSION_KEYS, 'attribute key `a"b` cannot be searched: it holds a `"`', 0, None),
    (
        "time_created > yesterday",
        VERSION_KEYS,
        "invalid time `yesterday` for `time_created`; use a date (2026-11-01), a date and time "
        "(2026-11-01T09:30:00Z) or epoch milliseconds",
        15,
        "time_created",
    ),
    (
        "time_updated == 2026-02-30",
        MODEL_KEYS,
        "invalid time `2026-02-30` for `time_updated`; use a date (2026-11-01), a date and time "
        "(2026-11-01T09:30:00Z) or epoch milliseconds",
        16,
        "time_updated",
    ),
    (
        "time_created < 99999999999999999999",
        VERSION_KEYS,
        "time `99999999999999999999` is out of range",
        15,
        "time_created",
    ),
    ("time_created <= 9999-12-31", VERSION_KEYS, "time `9999-12-31` is out of range", 16, "time_created"),
    (
        "time_created > '0001-01-01T00:00+01:00'",
        VERSION_KEYS,
        "time `0001-01-01T00:00+01:00` is out of range",
        15,
        "time_created",
    ),
    ("stage == x\x00", VERSION_KEYS, "unsupported character U+0000 at character 11", 10, None),
    ("name == '\ud800'", VERSION_KEYS, "unsupported character U+D800 at character 10", 9, None),
    ("x" * (MAX_LENGTH + 1), VERSION_KEYS, "the search is too long (1,001 characters); at most 1,000", None, None),
    (
        " and ".join(["stage == staging"] * (MAX_PREDICATES + 1)),
        VERSION_KEYS,
        "too many conditions (at most 20 joined with `and`) at character 421",
        420,
        None,
    ),
]


@pytest.mark.parametrize(("text", "keys", "message", "position", "key"), ERRORS, ids=[e[2][:60] for e in ERRORS])
def test_errors_say_what_and_where(text: str, keys: Any, message: str, position: int | None, key: str | None) -> None:
    with pytest.raises(FindError) as error:
        parse(text, keys=keys)
    assert str(error.value) == message
    assert (error.value.position, error.value.key) == (position, key)


def test_find_error_is_a_value_error() -> None:
    assert issubclass(FindError, ValueError)


@pytest.mark.parametrize(
    ("text", "keys"),
    [
        ("stage == Production", VERSION_KEYS),
        ("lock_level == REDACT", VERSION_KEYS),
        ("visibility == PRIVATE", MODEL_KEYS),
    ],
)
def test_choice_values_in_any_case(text: str, keys: Any) -> None:
    assert parse(text, keys=keys)


def test_choice_labels_are_accepted() -> None:
    assert parse("visibility == 'organization (every signed-in user may view)'", keys=MODEL_KEYS)


def test_filter_versions_raises_the_parse_error(db: None) -> None:
    with pytest.raises(FindError, match=r"^unknown stage `prod`"):
        filter_versions(ModelVersion.objects.all(), "stage == prod")
    with pytest.raises(FindError, match=r"^unknown key `stage`"):
        filter_models(RegisteredModel.objects.all(), "stage == staging")


# Fragments a search is made of, so generated searches reach every key, operator and kind of value.
KEYS = [*sorted(set(VERSION_KEYS) | set(MODEL_KEYS)), "attributes.auc", "attributes.1", "attributes.'a b'", "x"]
VALUES = [
    "staging", "Production", "open", "nlp", "abc", "0.9", "-.5e-99", "1e400", "1" * 150, "2026-11-01",
    "2026-11-01T10:00:00+01:00", "2026-11-01 10:00", "1764547200000", "99999999999999999999", "9999-12-31",
    "0001-01-01", "9999-12-31T23:59:59-01:00", "%", "_", "\\", "'", "''", "\"\"", "true", "1" * 200, "1" * 201,
    "9" * 197 + "e99", "0." + "0" * 193 + "1e-99",
]  # fmt: skip
numbers = st.from_regex(NUMBER_PATTERN).filter(lambda number: len(number) <= NUMBER_MAX_LENGTH)
fragments = st.one_of(st.sampled_from(KEYS), st.sampled_from([*OPERATORS, "=", "and", "AND"]), st.sampled_from(VALUES))
separators = st.sampled_from(["", " ", "  ", "'", '"', "\\", "\t"])
searches = st.one_of(
    st.text(max_size=80),
    st.lists(st.tuples(fragments, separators), max_size=12).map(lambda parts: "".join(a + b for a, b in parts)),
    st.lists(
        st.tuples(
            st.sampled_from(KEYS), st.sampled_from(OPERATORS), st.one_of(st.sampled_from(VALUES), numbers, st.text())
        ),
        min_size=1,
        max_size=4,
    ).map(lambda predicates: " and ".join(f"{k} {op} {v}" for k, op, v in predicates)),
)


def parse_outcome(text: str, keys: Any) -> list[Predicate] | FindError:
    try:
        return parse(text, keys=keys)
    except FindError as error:
        return error


@given(text=searches)
@example(text="attributes.auc > 0.9 and attributes.auc == '1e400' and attributes.big < 1")
def test_any_text_parses_or_raises_find_error(text: str) -> None:
    for keys in (VERSION_KEYS, MODEL_KEYS):
        outcome = parse_outcome(text, keys)
        if isinstance(outcome, FindError):
            assert str(outcome)
            assert outcome.position is None or 0 <= outcome.position <= len(text)
        else:
            assert all(text[p.position :].startswith(p.key.partition(".")[0]) for p in outcome)


def quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


@given(value=st.text(max_size=60).filter(lambda value: "\x00" not in value))
def test_any_quoted_value_reads_back(value: str) -> None:
    assert one(f"name == {quote(value)}").value == value
    assert parse(f"name=={quote(value)}and name ~= x", keys=MODEL_KEYS)[0].value == value


@given(number=numbers)
def test_what_reads_as_a_number_is_a_finite_double_that_does_not_vanish(number: str) -> None:
    value = float(number)
    assert math.isfinite(value)
    assert (value == 0) == (number.lower().partition("e")[0].strip("+-.0") == "")


# --- Semantics on the database ------------------------------------------------------------------------------------

T0 = datetime(2026, 10, 31, 23, 30, tzinfo=UTC)
T1 = datetime(2026, 11, 1, tzinfo=UTC)
T2 = datetime(2026, 11, 1, 12, 0, 0, 250_000, tzinfo=UTC)
T3 = datetime(2026, 11, 2, tzinfo=UTC)
LOCKED_AT = datetime(2026, 11, 3, tzinfo=UTC)
MOVED_AT = datetime(2026, 11, 5, tzinfo=UTC)
TAGGER_MOVED_AT = datetime(2026, 11, 6, tzinfo=UTC)


def epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


@contextmanager
def at(moment: datetime) -> Iterator[None]:
    with clock.replaying(lambda: moment):
        yield


@dataclass
class Catalog:
    owner: Any
    alice: Any
    bob: Any
    churn: RegisteredModel
    fraud: RegisteredModel
    tagger: RegisteredModel


@pytest.fixture
def catalog(owner: Any) -> Catalog:
    """Three models and six versions, c1…t1, with stages, labels, attributes, locks and times to tell them apart."""
    alice, bob = UserFactory.create(username="alice"), UserFactory.create(username="bob")
    with at(T0):
        churn = ModelFactory.create(
            owner=owner,
            name="Churn Predictor",
            labels=["nlp", "tabular"],
            task_type="classification",
            data_type="tabular",
            visibility="private",
        )
        add_collaborator(actor=owner, model=churn, user=alice, role=Role.EDITOR)
        c1 = VersionFactory.create(
            model=churn, name="c1", labels=["nlp"], attributes={"auc": "0.94", "framework": "PyTorch"}
        )
    with at(T1):
        fraud = ModelFactory.create(
            owner=alice, name="Fraud Detector", labels=["fraud"], task_type="detection", data_type="tabular"
        )
        c2 = VersionFactory.create(
            model=churn, created_by=alice, name="c2", labels=["nlp-v2", "gpu"], attributes={"auc": 0.87, "note": "abc"}
        )
        f1 = VersionFactory.create(
            model=fraud,
            name="f1",
            labels=["fraud"],
            attributes={
                "auc": "abc",
                "big": "1e400",
                "huge": "9" * 201,
                "edge": "9" * 197 + "e99",
                "tiny": "0." + "0" * 193 + "1e-99",
            },
        )
    with at(T2):
        c3 = VersionFactory.create(
            model=churn, name="c3", attributes={"1": "one", "précision": "0.5", "path": "C:\\models"}
        )
    with at(T3):
        tagger = ModelFactory.create(owner=bob, name="Image Tagger", task_type="classification", data_type="image")
        f2 = VersionFactory.create(
            model=fraud, name="f2", labels=["gpu"], attributes={"auc": "0.9", "framework": "xgboost"}
        )
        t1 = VersionFactory.create(
            model=tagger,
            name="t1",
            attributes={
                "auc": 1,
                "Epochs": "10",
                "learning rate": "0.01",
                "flag": True,
                "gone": None,
                "score": 0.8733333333333333,
                "count": 10**30,
                "lowest": -(2**63),
                "vast": 10**400,
            },
        )
    with at(LOCKED_AT):
        set_lock_level(actor=owner, version=c3, lock_level=LockLevel.CLOSED)
        set_lock_level(actor=alice, version=f2, lock_level=LockLevel.REDACT)
    with at(MOVED_AT):
        set_stage(c1, Stage.PRODUCTION)
        set_stage(c2, Stage.STAGING)
        set_stage(f1, Stage.STAGING)
        set_stage(f2, Stage.ARCHIVED)
    with at(TAGGER_MOVED_AT):
        set_stage(t1, Stage.DEVELOPMENT)
    return Catalog(owner=owner, alice=alice, bob=bob, churn=churn, fraud=fraud, tagger=tagger)


ALL_VERSIONS = {"c1", "c2", "c3", "f1", "f2", "t1"}


def found_versions(text: str, queryset: QuerySet[ModelVersion] | None = None) -> list[str]:
    return sorted(v.name for v in filter_versions(ModelVersion.objects.all() if queryset is None else queryset, text))


VERSION_CASES: list[tuple[str, set[str]]] = [
    ("", ALL_VERSIONS),
    ("stage == production", {"c1"}),
    ("stage == Staging", {"c2", "f1"}),
    ('stage == "PRODUCTION"', {"c1"}),
    ("stage != staging", {"c1", "c3", "f2", "t1"}),
    ("stage == unassigned", {"c3"}),
    ("stage == development", {"t1"}),
    ("name == c1", {"c1"}),
    ("version == c2", {"c2"}),
    ("name == C1", set()),
    ("name != c1", ALL_VERSIONS - {"c1"}),
    ("version ~= C", {"c1", "c2", "c3"}),
    ("model == 'churn predictor'", {"c1", "c2", "c3"}),
    ('model == "CHURN PREDICTOR"', {"c1", "c2", "c3"}),
    ("model == Churn", set()),
    ("model != 'Churn Predictor'", {"f1", "f2", "t1"}),
    ("model ~= TAG", {"t1"}),
    ("labels == nlp", {"c1"}),
    ("labels == NLP", {"c1"}),
    ("labels == gpu", {"c2", "f2"}),
    ("labels != nlp", ALL_VERSIONS - {"c1"}),
    ("labels != gpu", {"c1", "c3", "f1", "t1"}),
    ("labels ~= nlp", {"c1", "c2"}),
    ("labels ~= P", {"c1", "c2", "f2"}),
    ("labels == nl", set()),
    ("lock_level == closed", {"c3"}),
    ("lock_level == Redact", {"f2"}),
    ("lock_level != open", {"c3", "f2"}),
    ("owner == alice", {"c2", "f1", "f2"}),
    ("owner == Alice", set()),
    ("owner != alice", {"c1", "c3", "t1"}),
    ("owner ~= ALI", {"c2", "f1", "f2"}),
    ("attributes.auc > 0.9", {"c1", "t1"}),
    ("attributes.auc >= 0.9", {"c1", "f2", "t1"}),
    ("attributes.auc < 0.9", {"c2"}),
    ("attributes.auc <= 0.87", {"c2"}),
    ("attributes.auc > -1e2", {"c1", "c2", "f2", "t1"}),
    ("attributes.auc == 0.94", {"c1"}),
    ("attributes.auc == 0.940", {"c1"}),
    ("attributes.auc == .94", {"c1"}),
    ("attributes.auc == 0.87", {"c2"}),
    ("attributes.auc == 1", {"t1"}),
    ("attributes.auc == 1.0", {"t1"}),
    ("attributes.auc == '0.94'", {"c1"}),
    ("attributes.auc == '0.940'", set()),
    ("attributes.auc > '0.9'", {"c1", "t1"}),
    ("attributes.auc == abc", {"f1"}),
    ("attributes.auc != 0.94", ALL_VERSIONS - {"c1"}),
    ("attributes.auc != abc", ALL_VERSIONS - {"f1"}),
    ("attributes.auc ~= 9", {"c1", "f2"}),
    ("attributes.framework == PyTorch", {"c1"}),
    ("attributes.framework == pytorch", set()),
    ("attributes.framework ~= TORCH", {"c1"}),
    ("attributes.note > 1", set()),
    ("attributes.big > 0", set()),
    ("attributes.big == 1e400", {"f1"}),
    ("attributes.huge > 0", set()),
    ("attributes.edge > 1e99", {"f1"}),
    ("attributes.tiny > 0", {"f1"}),
    ("attributes.tiny < 1e-99", {"f1"}),
    ("attributes.big == '1e400'", {"f1"}),
    ("attributes.missing == x", set()),
    ("attributes.missing != x", ALL_VERSIONS),
    ("attributes.score == 0.8733333333333333", {"t1"}),
    ("attributes.score < 0.8733333333333334", {"t1"}),
    ("attributes.score > 0.873333333333333", {"t1"}),
    ("attributes.count > 1e29", {"t1"}),
    ("attributes.count == 1000000000000000000000000000000", {"t1"}),
    ("attributes.lowest < -9.2e18", {"t1"}),
    ("attributes.vast > 0", set()),
    ("attributes.vast != 0", ALL_VERSIONS),
    ("attributes.Epochs >= 10", {"t1"}),
    ("attributes.epochs >= 10", set()),
    ("attributes.'learning rate' < 0.1", {"t1"}),
    ("attributes.1 == one", {"c3"}),
    ("attributes.précision == 0.5", {"c3"}),
    ("attributes.path == 'C:\\models'", {"c3"}),
    ("attributes.path ~= '%'", set()),
    ("attributes.flag == true", {"t1"}),
    ("attributes.gone == null", set()),
    ("attributes.gone != x", ALL_VERSIONS),
    ("time_created == 2026-11-01", {"c2", "c3", "f1"}),
    ("time_created != 2026-11-01", {"c1", "f2", "t1"}),
    ("time_created < 2026-11-01", {"c1"}),
    ("time_created <= 2026-11-01", {"c1", "c2", "c3", "f1"}),
    ("time_created > 2026-11-01", {"f2", "t1"}),
    ("time_created >= 2026-11-01", {"c2", "c3", "f1", "f2", "t1"}),
    ("time_created == 2026-11-01T12:00:00.250Z", {"c3"}),
    ("time_created == 2026-11-01T12:00:00.250", {"c3"}),
    ("time_created == 2026-11-01T12:00:00Z", set()),
    ("time_created >= '2026-11-01 12:00'", {"c3", "f2", "t1"}),
    ("time_created < 2026-11-01T00:30+01:00", set()),
    ("time_created <= 2026-11-01T00:30+01:00", {"c1"}),
    ("time_created != 2026-11-01T00:00:00+00:00", {"c1", "c3", "f2", "t1"}),
    (f"time_created == {epoch_ms(T2)}", {"c3"}),
    (f"time_created == {epoch_ms(T1)}", {"c2", "f1"}),
    (f"time_created != {epoch_ms(T1)}", {"c1", "c3", "f2", "t1"}),
    (f"time_created < {epoch_ms(T1)}", {"c1"}),
    (f"time_created <= {epoch_ms(T1)}", {"c1", "c2", "f1"}),
    (f"time_created > {epoch_ms(T1)}", {"c3", "f2", "t1"}),
    (f"time_created >= {epoch_ms(T2)}", {"c3", "f2", "t1"}),
    ("time_updated < 2026-11-04", {"c3"}),
    ("time_updated == 2026-11-05", {"c1", "c2", "f1", "f2"}),
    ("time_updated >= 2026-11-06", {"t1"}),
    ("stage == staging and model == 'fraud detector'", {"f1"}),
    ("model == 'Churn Predictor' and labels ~= nlp and attributes.auc > 0.8", {"c1", "c2"}),
    ("owner == alice AND lock_level == open AND time_created < 2026-11-02", {"c2", "f1"}),
]


@pytest.mark.parametrize(("text", "expected"), VERSION_CASES, ids=[c[0] for c in VERSION_CASES])
def test_versions_found(catalog: Catalog, text: str, expected: set[str]) -> None:
    assert found_versions(text) == sorted(expected)


MODEL_CASES: list[tuple[str, set[str]]] = [
    ("", {"churn", "fraud", "tagger"}),
    ("name == 'churn predictor'", {"churn"}),
    ("name == 'Churn'", set()),
    ("name != 'Churn Predictor'", {"fraud", "tagger"}),
    ("name ~= OR", {"churn", "fraud"}),
    ("labels == tabular", {"churn"}),
    ("labels != nlp", {"fraud", "tagger"}),
    ("labels ~= a", {"churn", "fraud"}),
    ("owner == alice", {"fraud"}),
    ("owner != alice", {"churn", "tagger"}),
    ("owner ~= O", {"churn", "tagger"}),
    ("task_type == classification", {"churn", "tagger"}),
    ("task_type == Detection", {"fraud"}),
    ("data_type == image", {"tagger"}),
    ("data_type != tabular", {"tagger"}),
    ("visibility == private", {"churn"}),
    ("visibility == 'Organization (every signed-in user may view)'", {"fraud", "tagger"}),
    ("time_created == 2026-11-01", {"fraud"}),
    ("time_created < 2026-11-01", {"churn"}),
    ("time_created >= 2026-11-02", {"tagger"}),
    ("time_updated == 2026-11-06", {"tagger"}),
    ("time_updated < 2026-11-06", {"churn", "fraud"}),
    (f"time_updated > {epoch_ms(MOVED_AT)}", {"tagger"}),
    ("labels == nlp and task_type == classification", {"churn"}),
]


@pytest.mark.parametrize(("text", "expected"), MODEL_CASES, ids=[c[0] for c in MODEL_CASES])
def test_models_found(catalog: Catalog, text: str, expected: set[str]) -> None:
    names = {"Churn Predictor": "churn", "Fraud Detector": "fraud", "Image Tagger": "tagger"}
    assert sorted(names[m.name] for m in filter_models(RegisteredModel.objects.all(), text)) == sorted(expected)


def test_a_models_versions_by_stage(catalog: Catalog) -> None:
    assert found_versions("stage == staging", catalog.churn.versions.all()) == ["c2"]
    assert found_versions("stage == staging", catalog.fraud.versions.all()) == ["f1"]


def test_a_version_with_several_matching_labels_is_found_once(catalog: Catalog) -> None:
    found = filter_versions(ModelVersion.objects.all(), "labels ~= p and labels != fraud")
    assert sorted(v.name for v in found) == ["c1", "c2", "f2"]
    assert found.count() == 3
    assert "DISTINCT" not in str(found.query)
    assert " JOIN " not in str(found.query).split("EXISTS")[0]


def test_only_what_the_caller_may_see(catalog: Catalog, outsider: Any) -> None:
    assert found_versions("labels ~= nlp", visible_versions(user=catalog.owner)) == ["c1", "c2"]
    assert found_versions("labels ~= nlp", visible_versions(user=outsider)) == []
    assert found_versions("model == 'Churn Predictor'", visible_versions(user=outsider)) == []
    assert [m.name for m in filter_models(visible_models(user=outsider), "owner == owner")] == []


def test_the_callers_order_and_keyset_pages_hold(catalog: Catalog) -> None:
    newest_first = ModelVersion.objects.order_by("-created_at", "-id")
    found = filter_versions(newest_first, "stage != archived")
    assert [v.name for v in found] == ["t1", "c3", "f1", "c2", "c1"]
    cursor = ModelVersion.objects.get(name="c3")
    older = Q(created_at__lt=cursor.created_at) | Q(created_at=cursor.created_at, id__lt=cursor.id)
    assert [v.name for v in found.filter(older)[:2]] == ["f1", "c2"]
    assert [v.name for v in filter_versions(newest_first.filter(older), "stage != archived")[:2]] == ["f1", "c2"]


def test_filtering_adds_no_query_and_the_list_is_one(catalog: Catalog, django_assert_num_queries: Any) -> None:
    text = (
        "stage != archived and model ~= churn and labels ~= nlp and labels != fraud and owner == alice "
        "and attributes.auc > 0.5 and time_created >= 2026-11-01 and lock_level == open"
    )
    with django_assert_num_queries(0):
        versions = filter_versions(visible_versions(user=catalog.alice), text)
        models = filter_models(visible_models(user=catalog.alice), "labels == nlp and owner != bob and name ~= c")
    with django_assert_num_queries(1):
        assert [v.name for v in versions.order_by("-created_at", "-id")[:50]] == ["c2"]
    with django_assert_num_queries(1):
        assert [m.name for m in models] == ["Churn Predictor"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=searches)
@example(text="attributes.big > 0 and attributes.huge < 1 and attributes.auc == 1e99")
@example(text="time_created > 9999-12-31T23:59:59-01:00")
@example(text="attributes.'\\\\' == 1 and attributes.'[0]' ~= '%_'")
def test_any_text_finds_or_raises_find_error_on_the_database(catalog: Catalog, text: str) -> None:
    try:
        versions = list(filter_versions(ModelVersion.objects.all(), text))
    except FindError:
        versions = []
    try:
        models = list(filter_models(RegisteredModel.objects.all(), text))
    except FindError:
        models = []
    assert len(versions) <= len(ALL_VERSIONS)
    assert len(models) <= 3


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(number=numbers)
@example(number="9" * 197 + "e99")
@example(number="-0." + "0" * 192 + "1e-99")
def test_the_database_casts_what_reads_as_a_number(owner: Any, version: ModelVersion, number: str) -> None:
    edit_version(
        actor=owner,
        version=version,
        description="",
        labels=[],
        attributes={"x": number},
        artifact_uri="",
        source_run_url="",
    )
    assert found_versions(f"attributes.x == {number} and attributes.x >= {number}") == [version.name]


# --- Indexes (PostgreSQL) -----------------------------------------------------------------------------------------


def plan(queryset: QuerySet[Any], *, sorted_by_an_index: bool = False) -> str:
    """The plan PostgreSQL would pick were a sequential scan its last resort: proof a predicate can use an index.
    sorted_by_an_index: were a sort its last resort too (on a tiny table, sorting a few rows costs the planner less
    than reading an index in order, so it would not show that the order can come from one)."""
    settings = ["enable_seqscan", "enable_bitmapscan", *(["enable_sort"] if sorted_by_an_index else [])]
    with connection.cursor() as cursor:
        for setting in settings:
            cursor.execute(f"SET LOCAL {setting} = off")
    try:
        return queryset.explain()
    finally:
        with connection.cursor() as cursor:
            for setting in settings:
                cursor.execute(f"RESET {setting}")


@pytest.mark.postgres
def test_stage_uses_the_stage_index(catalog: Catalog) -> None:
    # Newest first (the default order), the (stage, created_at) index serves both; unordered, either stage index.
    newest_first = filter_versions(ModelVersion.objects.all(), "stage == production")
    assert "catalog_ver_stage_new_idx" in plan(newest_first, sorted_by_an_index=True)
    assert "catalog_ver_stage" in plan(filter_versions(ModelVersion.objects.order_by(), "stage == production"))


@pytest.mark.postgres
def test_model_name_uses_the_case_insensitive_name_index(catalog: Catalog) -> None:
    found = plan(filter_versions(ModelVersion.objects.all(), "model == 'CHURN PREDICTOR'"))
    assert "catalog_model_name_ci_unique" in found
    assert "catalog_model_name_ci_unique" in plan(filter_models(RegisteredModel.objects.all(), "name == churn"))


@pytest.mark.postgres
def test_labels_probe_the_through_table_by_index(catalog: Catalog) -> None:
    found = plan(filter_versions(ModelVersion.objects.all(), "labels == nlp"))
    assert "Seq Scan" not in found
    assert "catalog_modelversion_labels" in found
