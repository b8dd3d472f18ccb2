"""`find`, Verta's predicate language: `stage == production and labels == nlp and attributes.auc > 0.9`.

The REST API, the Python client (through the API) and the UI search box all filter with this module, so a search
means, and fails, the same everywhere. A search is predicates `key op value` joined with `and`; spaces around the
operator are optional; a value is a bare word or quoted with '…' or "…" (a backslash escapes the quote or itself).
`!=` is always the opposite of `==`: a version without the attribute or label matches `!=`.
Label values are compared in lower case, as labels are stored. A bare number compared with `==` or `!=` to an
attribute compares as a number ("0.940" == 0.94); quoted, it compares as text; an attribute that is not a number
(or is missing) matches no `<`, `<=`, `>`, `>=`. A date stands for its whole UTC day and epoch milliseconds for their
whole millisecond; a date and time without an offset is UTC. Apply the filters before slicing a queryset.

Known differences between the databases: SQLite folds case (`~=`, model names) for ASCII letters only, and
writes a JSON number attribute as text with 15 significant digits (its `~=` and quoted `==` see that text).
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from types import MappingProxyType
from typing import Any, TypeVar, cast

from django.contrib.auth import get_user_model
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import (
    Exists,
    F,
    FloatField,
    Func,
    ManyToManyField,
    Model,
    OuterRef,
    Q,
    QuerySet,
    TextChoices,
    TextField,
    Value,
)
from django.db.models.functions import Cast, Lower
from django.db.models.lookups import (
    Exact,
    GreaterThan,
    GreaterThanOrEqual,
    IContains,
    IsNull,
    LessThan,
    LessThanOrEqual,
    Lookup,
)
from django.db.models.sql.compiler import SQLCompiler

from catalog.models import DataType, LockLevel, ModelVersion, RegisteredModel, Stage, TaskType, Visibility

MAX_LENGTH = 1_000
MAX_PREDICATES = 20

OPERATORS = ("==", "!=", "<", "<=", ">", ">=", "~=")
ORDERING = ("<", "<=", ">", ">=")
ATTRIBUTE_PREFIX = "attributes."
ATTRIBUTE_KEY = "attributes.<key>"

_OPERATOR_CHARS = frozenset("=!<>~")
_QUOTES = frozenset("'\"")
# A number both databases cast to a double without an error. PostgreSQL refuses one out of range ('1e400'), so the
# exponent has at most two digits and the whole at most NUMBER_MAX_LENGTH characters (|x| within 1e-297 … 1e299);
# a length check instead of bounded repetitions in the pattern keeps PostgreSQL's regex engine fast.
NUMBER_PATTERN = r"\A[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]{1,2})?\Z"
NUMBER_MAX_LENGTH = 200
_NUMBER = re.compile(NUMBER_PATTERN)
_EPOCH_MS = re.compile(r"[-+]?[0-9]+")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DATETIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?(?:Z|[+-][0-9]{2}:[0-9]{2})?"
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_TIME_HINT = "use a date (2026-11-01), a date and time (2026-11-01T09:30:00Z) or epoch milliseconds"


class FindError(ValueError):
    """A search that cannot run; the message says what is wrong and where (1-based), fit to show a user.

    `position` is the 0-based offset the message points at (None when it concerns the whole search) and `key` the
    key of the predicate at fault, once that key has been recognised (None otherwise).
    """

    def __init__(self, message: str, *, position: int | None = None, key: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.position = position
        self.key = key


class Kind(enum.Enum):
    CHOICE = "choice"  # one of a TextChoices, by value or label in any case
    TEXT = "text"  # == exact, ~= contains (any case)
    NAME = "name"  # a model's own name: == in any case, on the Lower(name) index
    MODEL = "model"  # a version's model, by its name
    LABELS = "labels"
    USER = "user"  # a user foreign key, by username
    TIME = "time"
    ATTRIBUTE = "attribute"


KIND_OPERATORS: Mapping[Kind, tuple[str, ...]] = MappingProxyType(
    {
        Kind.CHOICE: ("==", "!="),
        Kind.TEXT: ("==", "!=", "~="),
        Kind.NAME: ("==", "!=", "~="),
        Kind.MODEL: ("==", "!=", "~="),
        Kind.LABELS: ("==", "!=", "~="),
        Kind.USER: ("==", "!=", "~="),
        Kind.TIME: ("==", "!=", "<", "<=", ">", ">="),
        Kind.ATTRIBUTE: OPERATORS,
    }
)


@dataclass(frozen=True)
class FindKey:
    """What a key reads: its kind, the model field, and for a choice key its choices and how to name them."""

    kind: Kind
    field: str
    choices: type[TextChoices] | None = None
    noun: str = ""
    plural: str = ""


def _choice(field: str, choices: type[TextChoices], noun: str, plural: str) -> FindKey:
    return FindKey(Kind.CHOICE, field, choices, noun, plural)


VERSION_KEYS: Mapping[str, FindKey] = MappingProxyType(
    {
        ATTRIBUTE_KEY: FindKey(Kind.ATTRIBUTE, "attributes"),
        "labels": FindKey(Kind.LABELS, "labels"),
        "lock_level": _choice("lock_level", LockLevel, "lock level", "lock levels"),
        "model": FindKey(Kind.MODEL, "model"),
        "name": FindKey(Kind.TEXT, "name"),
        "owner": FindKey(Kind.USER, "created_by"),
        "stage": _choice("stage", Stage, "stage", "stages"),
        "time_created": FindKey(Kind.TIME, "created_at"),
        "time_updated": FindKey(Kind.TIME, "updated_at"),
        "version": FindKey(Kind.TEXT, "name"),
    }
)

MODEL_KEYS: Mapping[str, FindKey] = MappingProxyType(
    {
        "data_type": _choice("data_type", DataType, "data type", "data types"),
        "labels": FindKey(Kind.LABELS, "labels"),
        "name": FindKey(Kind.NAME, "name"),
        "owner": FindKey(Kind.USER, "owner"),
        "task_type": _choice("task_type", TaskType, "task type", "task types"),
        "time_created": FindKey(Kind.TIME, "created_at"),
        "time_updated": FindKey(Kind.TIME, "updated_at"),
        "visibility": _choice("visibility", Visibility, "visibility", "visibilities"),
    }
)

EXAMPLES: tuple[str, ...] = (
    "stage == production",
    "model == 'Churn Predictor' and stage != archived",
    "labels == nlp and attributes.auc > 0.9",
    "owner == alice and time_created >= 2026-11-01",
)

MODEL_EXAMPLES: tuple[str, ...] = (
    "labels == nlp",
    "name ~= churn",
    "task_type == classification and data_type == tabular",
    "time_updated >= 2026-11-01",
)


@dataclass(frozen=True)
class Predicate:
    """One `key op value` of a search."""

    key: str  # as written: "stage", "version", "attributes.auc"
    op: str
    value: str  # without its quotes and escapes
    position: int  # 0-based offset of the key
    quoted: bool = False


def quoted(value: str) -> str:
    """value written as a quoted find value that reads back as value: `Churn "v2"` becomes `"Churn \\"v2\\""`."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _shown(text: str, limit: int = 40) -> str:
    """text as an error message quotes it: on one line, and cut short so the message stays readable."""
    text = "".join(" " if char.isspace() else char for char in text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _alternatives(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} or {items[-1]}"


class _Parser:
    def __init__(self, text: str, keys: Mapping[str, FindKey]) -> None:
        self.text, self.keys, self.i = text, keys, 0

    def at_end(self) -> bool:
        return self.i >= len(self.text)

    def skip_space(self) -> None:
        while not self.at_end() and self.text[self.i].isspace():
            self.i += 1

    def take(self, accept: Callable[[str], bool]) -> str:
        start = self.i
        while not self.at_end() and accept(self.text[self.i]):
            self.i += 1
        return self.text[start : self.i]

    def word(self) -> str:
        return self.take(lambda c: not c.isspace() and c not in _OPERATOR_CHARS and c not in _QUOTES)

    def quoted(self, *, key: str | None = None) -> str:
        start, quote = self.i, self.text[self.i]
        chars: list[str] = []
        self.i += 1
        while not self.at_end():
            char = self.text[self.i]
            if char == "\\" and self.i + 1 < len(self.text) and self.text[self.i + 1] in (quote, "\\"):
                chars.append(self.text[self.i + 1])
                self.i += 2
            elif char == quote:
                self.i += 1
                return "".join(chars)
            else:
                chars.append(char)
                self.i += 1
        raise FindError(f"unterminated quote at character {start + 1}", position=start, key=key)

    def error(self, message: str, *, key: str | None = None) -> FindError:
        return FindError(f"{message} at character {self.i + 1}", position=self.i, key=key)

    def key(self) -> tuple[str, FindKey]:
        start = self.i
        if self.at_end() or self.text[self.i] in _OPERATOR_CHARS or self.text[self.i] in _QUOTES:
            raise self.error("expected a key")
        word = self.word()
        if word.startswith(ATTRIBUTE_PREFIX) and ATTRIBUTE_KEY in self.keys:
            name = word.removeprefix(ATTRIBUTE_PREFIX)
            if not name and not self.at_end() and self.text[self.i] in _QUOTES:
                name = self.quoted()
            if not name:
                raise self.error(f"expected an attribute key after `{ATTRIBUTE_PREFIX}`")
            if '"' in name:  # SQLite's JSON paths cannot hold one, so neither database searches such a key
                raise FindError(f'attribute key `{_shown(name)}` cannot be searched: it holds a `"`', position=start)
            return ATTRIBUTE_PREFIX + name, self.keys[ATTRIBUTE_KEY]
        if word == ATTRIBUTE_KEY or word not in self.keys:
            known = ", ".join(sorted(self.keys))
            raise FindError(f"unknown key `{_shown(word)}` at character {start + 1}; keys are: {known}", position=start)
        return word, self.keys[word]

    def predicate(self) -> Predicate:
        start = self.i
        key, spec = self.key()
        self.skip_space()
        op_start = self.i
        op = self.take(lambda c: c in _OPERATOR_CHARS)
        if not op:
            raise self.error(f"expected an operator after `{_shown(key)}`", key=key)
        if op not in OPERATORS:
            raise FindError(
                f"unknown operator `{_shown(op)}` at character {op_start + 1}; operators are: {', '.join(OPERATORS)}",
                position=op_start,
                key=key,
            )
        allowed = KIND_OPERATORS[spec.kind]
        if op not in allowed:
            raise FindError(
                f"`{op}` does not apply to `{_shown(key)}`; use {_alternatives(allowed)}", position=op_start, key=key
            )
        self.skip_space()
        value_start = self.i
        quoted = not self.at_end() and self.text[self.i] in _QUOTES
        value = self.quoted(key=key) if quoted else self.word()
        if not quoted and not value:
            raise self.error(f"expected a value after `{op}`", key=key)
        predicate = Predicate(key=key, op=op, value=value, position=start, quoted=quoted)
        _operand(spec, predicate, value_position=value_start)  # refuse a bad value here, where its place is known
        return predicate

    def and_keyword(self) -> None:
        word = self.text[self.i : self.i + 3]
        after = self.i + 3
        if word.lower() != "and" or (after < len(self.text) and not self.text[after].isspace()):
            raise self.error("expected `and`")
        self.i = after


def parse(text: str, *, keys: Mapping[str, FindKey]) -> list[Predicate]:
    """The predicates of text (none when it is blank), checked against keys; raises FindError."""
    if len(text) > MAX_LENGTH:
        raise FindError(f"the search is too long ({len(text):,} characters); at most {MAX_LENGTH:,}")
    for i, char in enumerate(text):
        # PostgreSQL refuses NUL in text and no database driver encodes a lone surrogate (JSON can carry either).
        if char == "\x00" or "\ud800" <= char <= "\udfff":
            raise FindError(f"unsupported character U+{ord(char):04X} at character {i + 1}", position=i)
    parser = _Parser(text, keys)
    predicates: list[Predicate] = []
    parser.skip_space()
    while not parser.at_end():
        if predicates:
            parser.and_keyword()
            parser.skip_space()
        if len(predicates) == MAX_PREDICATES:
            raise parser.error(f"too many conditions (at most {MAX_PREDICATES} joined with `and`)")
        predicates.append(parser.predicate())
        parser.skip_space()
    return predicates


@dataclass(frozen=True)
class _Span:
    """The instants from start (included) to end (excluded), or the instant start alone when end is None."""

    start: datetime
    end: datetime | None = None


def _time(value: str) -> _Span:
    """Raises ValueError for a value that is no time, OverflowError for one out of range."""
    if _EPOCH_MS.fullmatch(value):
        start = _EPOCH + timedelta(milliseconds=int(value))
        return _Span(start, start + timedelta(milliseconds=1))
    if _DATE.fullmatch(value):
        start = datetime.combine(date.fromisoformat(value), time(), tzinfo=UTC)
        return _Span(start, start + timedelta(days=1))
    if _DATETIME.fullmatch(value):
        moment = datetime.fromisoformat(value)
        return _Span(moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC))
    raise ValueError(value)


@dataclass(frozen=True)
class _Number:
    text: str  # converted by the database, as it converts the stored values it is compared with


def _operand(spec: FindKey, predicate: Predicate, *, value_position: int) -> Any:
    """The value of predicate as its key compares it; raises FindError pointing at value_position."""
    key, op, value = predicate.key, predicate.op, predicate.value

    def refuse(message: str) -> FindError:
        return FindError(message, position=value_position, key=key)

    if spec.kind is Kind.CHOICE:
        assert spec.choices is not None
        folded = value.casefold()
        for choice in spec.choices:
            if folded in (choice.value.casefold(), str(choice.label).casefold()):
                return choice.value
        valid = ", ".join(choice.value for choice in spec.choices)
        raise refuse(f"unknown {spec.noun} `{_shown(value)}`; {spec.plural} are: {valid}")
    if spec.kind is Kind.TIME:
        try:
            return _time(value)
        except OverflowError:
            raise refuse(f"time `{_shown(value)}` is out of range") from None
        except ValueError:
            raise refuse(f"invalid time `{_shown(value)}` for `{_shown(key)}`; {_TIME_HINT}") from None
    if spec.kind is Kind.ATTRIBUTE:
        numeric = len(value) <= NUMBER_MAX_LENGTH and _NUMBER.search(value) is not None
        if op in ORDERING and not numeric:
            raise refuse(f"`{op}` on `{_shown(key)}` needs a number, not `{_shown(value)}`")
        if numeric and (op in ORDERING or (op != "~=" and not predicate.quoted)):
            return _Number(value)
        return value
    if spec.kind is Kind.LABELS:
        return value.lower()
    return value


def _render(template: str, fragments: Mapping[str, tuple[str, tuple[Any, ...]]]) -> tuple[str, tuple[Any, ...]]:
    """template with each {name} replaced by its fragment's SQL, the fragments' parameters in the same order."""
    params: list[Any] = []

    def substitute(match: re.Match[str]) -> str:
        sql, fragment_params = fragments[match.group(1)]
        params.extend(fragment_params)
        return sql

    return re.sub(r"\{(\w+)\}", substitute, template), tuple(params)


_AsSql = tuple[str, tuple[Any, ...]]

# The text of one attribute: NULL when absent or JSON null (SQLite's JSON_EXTRACT gives numbers and booleans as
# such, hence the CASE). PostgreSQL writes a JSON number as given; SQLite with 15 significant digits.
_TEXT_SQL = {
    "postgresql": "{text}",
    "sqlite": "(CASE {type} WHEN 'null' THEN NULL WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' "
    "ELSE CAST({json} AS TEXT) END)",
}
# The attribute as a double: a JSON number within a double's normal range, or a string NUMBER_PATTERN accepts; NULL
# otherwise. Each cast sits behind the test that makes it safe: PostgreSQL raises on a bad or out-of-range cast.
_NUMBER_SQL = {
    "postgresql": "(CASE jsonb_typeof({json}) "
    "WHEN 'number' THEN CASE WHEN abs(({json})::numeric) < 1e308 "
    "AND (({json})::numeric = 0 OR abs(({json})::numeric) > 1e-307) THEN ({json})::float8 END "
    "WHEN 'string' THEN CASE WHEN {text} ~ {pattern} AND length({text}) <= {max} THEN ({text})::float8 END END)",
    "sqlite": "(CASE WHEN {type} IN ('integer', 'real') THEN CASE WHEN abs(CAST({json} AS REAL)) < 1e308 "
    "AND (CAST({json} AS REAL) = 0 OR abs(CAST({json} AS REAL)) > 1e-307) THEN CAST({json} AS REAL) END "
    "WHEN {type} = 'text' THEN CASE WHEN {json} REGEXP {pattern} AND length({json}) <= {max} "
    "THEN CAST({json} AS REAL) END END)",
}


class _Attribute(Func):
    """One key of a version's attributes, as text or as a number, read alike on SQLite and PostgreSQL."""

    def __init__(self, key: str, *, number: bool) -> None:
        super().__init__(F("attributes"), output_field=FloatField() if number else TextField())
        self.key, self.templates = key, _NUMBER_SQL if number else _TEXT_SQL

    def as_postgresql(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any) -> _AsSql:
        column, params = compiler.compile(self.get_source_expressions()[0])
        return _render(
            self.templates["postgresql"],
            {
                "json": (f"({column} -> %s)", (*params, self.key)),
                "text": (f"({column} ->> %s)", (*params, self.key)),
                "pattern": ("%s", (NUMBER_PATTERN,)),
                "max": ("%s", (NUMBER_MAX_LENGTH,)),
            },
        )

    def as_sqlite(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any) -> _AsSql:
        column, params = compiler.compile(self.get_source_expressions()[0])
        # Django stores the JSON with json.dumps, and SQLite matches a path's key against the key as stored.
        path = "$." + json.dumps(self.key)
        return _render(
            self.templates["sqlite"],
            {
                "json": (f"JSON_EXTRACT({column}, %s)", (*params, path)),
                "type": (f"JSON_TYPE({column}, %s)", (*params, path)),
                "pattern": ("%s", (NUMBER_PATTERN,)),
                "max": ("%s", (NUMBER_MAX_LENGTH,)),
            },
        )


def attribute_text(key: str) -> Func:
    """An expression for one attribute of the row as text (NULL when missing), the same on SQLite and PostgreSQL:
    for other query languages over attributes (MLflow's tags)."""
    return _Attribute(key, number=False)


_COMPARE: Mapping[str, type[Lookup[Any]]] = MappingProxyType(
    {"==": Exact, "<": LessThan, "<=": LessThanOrEqual, ">": GreaterThan, ">=": GreaterThanOrEqual}
)


def _attribute_condition(name: str, op: str, operand: str | _Number) -> Q:
    if op == "~=":
        return Q(IContains(_Attribute(name, number=False), operand if isinstance(operand, str) else operand.text))
    subject: Any
    target: Any
    if isinstance(operand, _Number):
        # The database converts the searched number as it converts the stored ones, so equal texts compare equal.
        subject, target = _Attribute(name, number=True), Cast(Value(operand.text), FloatField())
    else:
        subject, target = _Attribute(name, number=False), Value(operand)
    if op == "!=":
        return ~Q(Exact(subject, target)) | Q(IsNull(subject, True))
    return Q(_COMPARE[op](subject, target))


_TIME_LOOKUPS = MappingProxyType({"==": "exact", "<": "lt", "<=": "lte", ">": "gt", ">=": "gte"})


def _time_condition(field: str, op: str, span: _Span) -> Q:
    def when(lookup: str, moment: datetime) -> Q:
        return Q(**{f"{field}__{lookup}": moment})

    start, end = span.start, span.end
    if end is None:
        return when("lt", start) | when("gt", start) if op == "!=" else when(_TIME_LOOKUPS[op], start)
    return {
        "==": when("gte", start) & when("lt", end),
        "!=": when("lt", start) | when("gte", end),
        "<": when("lt", start),
        "<=": when("lt", end),
        ">": when("gte", end),
        ">=": when("gte", start),
    }[op]


def _matches(model: type[Model], spec: FindKey, op: str, operand: str) -> Q:
    """The rows whose key equals operand (op == or !=) or contains it (op ~=)."""
    contains = op == "~="
    if spec.kind is Kind.LABELS:
        relation = cast("ManyToManyField[Any, Any]", model._meta.get_field(spec.field))
        name = f"{relation.m2m_reverse_field_name()}__name{'__icontains' if contains else ''}"
        # A correlated EXISTS on the through table: a join on labels would repeat a row per label and need DISTINCT.
        through = cast(type[Model], relation.remote_field.through)._default_manager
        return Q(Exists(through.filter(**{relation.m2m_field_name(): OuterRef("pk"), name: operand})))
    if spec.kind is Kind.MODEL:
        # Names resolve to ids on RegisteredModel's Lower(name) index; the versions' (model, …) indexes do the rest.
        models = RegisteredModel.objects.filter(_matches(RegisteredModel, MODEL_KEYS["name"], op, operand))
        return Q(**{f"{spec.field}__in": models.values("pk")})
    if spec.kind is Kind.USER:
        username = get_user_model().USERNAME_FIELD
        users = get_user_model()._default_manager.filter(
            **{f"{username}__icontains" if contains else username: operand}
        )
        return Q(**{f"{spec.field}__in": users.values("pk")})
    if contains:
        return Q(**{f"{spec.field}__icontains": operand})
    if spec.kind is Kind.NAME:
        return Q(Exact(Lower(spec.field), Lower(Value(operand))))  # the expression of the unique index
    return Q(**{spec.field: operand})


def _condition(model: type[Model], spec: FindKey, predicate: Predicate) -> Q:
    operand = _operand(spec, predicate, value_position=predicate.position)
    if spec.kind is Kind.ATTRIBUTE:
        return _attribute_condition(predicate.key.removeprefix(ATTRIBUTE_PREFIX), predicate.op, operand)
    if spec.kind is Kind.TIME:
        return _time_condition(spec.field, predicate.op, operand)
    matches = _matches(model, spec, predicate.op, operand)
    return ~matches if predicate.op == "!=" else matches


_M = TypeVar("_M", bound=Model)


def _filter(queryset: QuerySet[_M], text: str, keys: Mapping[str, FindKey]) -> QuerySet[_M]:
    predicates = parse(text, keys=keys)
    if not predicates:
        return queryset
    specs = [keys[ATTRIBUTE_KEY] if p.key.startswith(ATTRIBUTE_PREFIX) else keys[p.key] for p in predicates]
    return queryset.filter(*(_condition(queryset.model, spec, p) for spec, p in zip(specs, predicates, strict=True)))


def filter_versions(queryset: QuerySet[ModelVersion], text: str) -> QuerySet[ModelVersion]:
    """The versions of queryset (already limited to what the user may see) that match text; raises FindError."""
    return _filter(queryset, text, VERSION_KEYS)


def filter_models(queryset: QuerySet[RegisteredModel], text: str) -> QuerySet[RegisteredModel]:
    """The models of queryset (already limited to what the user may see) that match text; raises FindError."""
    return _filter(queryset, text, MODEL_KEYS)
