"""MLflow's search filters, order_by and page tokens, over our models and versions.

The grammar MLflow's server accepts (mlflow/utils/search_utils.py): comparisons joined by AND (no OR, no
parentheses), `<identifier> <comparator> <value>`. Identifiers are `name`, `attribute.name`, and for versions
`run_id`, `source_path`, `version_number`; `tag.<key>` or `tags.<key>` reads our attributes (a key with dots or
spaces in backticks). Strings are quoted; lists look like ('a', 'b'). A missing tag satisfies `!=`, so the
clause every client appends, tag.`mlflow.prompt.is_prompt` != 'true', keeps every model.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet

from catalog.find import attribute_text
from mlflow_compat.translate import MlflowError

COMPARATORS = ("!=", "<=", ">=", "=", "<", ">", "NOT IN", "ILIKE", "LIKE", "IN")
STRING_COMPARATORS = frozenset({"=", "!=", "LIKE", "ILIKE", "IN", "NOT IN"})
NUMBER_COMPARATORS = frozenset({"=", "!=", "<", "<=", ">", ">="})
TAG_COMPARATORS = frozenset({"=", "!=", "LIKE", "ILIKE"})

# Our field for each attribute MLflow lets one filter on, per kind of entity.
MODEL_FIELDS = {"name": "name"}
VERSION_FIELDS = {"name": "model__name", "run_id": "run_id", "source_path": "artifact_uri", "version_number": "number"}
NUMBER_FIELDS = frozenset({"version_number"})
MODEL_ORDER = {
    "name": "name",
    "timestamp": "updated_at",
    "last_updated_timestamp": "updated_at",
    "creation_timestamp": "created_at",
}
VERSION_ORDER = {
    "name": "model__name",
    "version_number": "number",
    "creation_timestamp": "created_at",
    "last_updated_timestamp": "updated_at",
    "timestamp": "updated_at",
}
MAX_FILTER = 4_000


def _invalid(message: str) -> MlflowError:
    return MlflowError("INVALID_PARAMETER_VALUE", message)


def _split_and(text: str) -> list[str]:
    """The clauses between top-level ANDs (outside quotes, backticks and parentheses)."""
    clauses, start, depth, quote, i = [], 0, 0, "", 0
    while i < len(text):
        char = text[i]
        if quote:
            if char == quote:
                quote = ""
        elif char in "'\"`":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif depth == 0 and re.match(r"(?i)\sAND\s", text[i : i + 5]):
            clauses.append(text[start:i])
            start = i + 5
            i += 4
        i += 1
    if quote:
        raise _invalid(f"Invalid filter '{text}': a quote is not closed.")
    clauses.append(text[start:])
    return [clause.strip() for clause in clauses]


@dataclass(frozen=True)
class Clause:
    kind: str  # "attribute" or "tag"
    key: str
    comparator: str
    value: Any


_IDENTIFIER = re.compile(r"(?P<prefix>(?:tags?|attributes?)\.)?(?:`(?P<quoted>[^`]*)`|(?P<bare>[\w.]+))", re.IGNORECASE)


def _parse_value(raw: str, clause: str) -> Any:
    raw = raw.strip()
    if not raw:
        raise _invalid(f"Invalid clause '{clause}': expected a value.")
    if raw[0] == "(":
        if not raw.endswith(")"):
            raise _invalid(f"Invalid clause '{clause}': a list ends with ')'.")
        items = re.findall(r"""\s*('(?:[^']|'')*'|"(?:[^"]|"")*")\s*(?:,|$)""", raw[1:-1])
        if not items:
            raise _invalid(f"Invalid clause '{clause}': expected a list of quoted strings, like ('a', 'b').")
        return [item[1:-1] for item in items]
    if raw[0] in "'\"":
        if len(raw) < 2 or raw[-1] != raw[0]:
            raise _invalid(f"Invalid clause '{clause}': a quote is not closed.")
        return raw[1:-1]
    if re.fullmatch(r"-?\d+(\.\d+)?", raw):
        return float(raw) if "." in raw else int(raw)
    raise _invalid(f"Invalid clause '{clause}': strings must be quoted, e.g. name = 'my-model'.")


def parse_filter(text: str) -> list[Clause]:
    """The clauses of an MLflow filter; raises MlflowError (INVALID_PARAMETER_VALUE) saying what is wrong."""
    text = (text or "").strip()
    if not text:
        return []
    if len(text) > MAX_FILTER:
        raise _invalid(f"The filter is too long ({len(text):,} characters; at most {MAX_FILTER:,}).")
    clauses = []
    for clause in _split_and(text):
        match = _IDENTIFIER.match(clause)
        if match is None or not clause:
            raise _invalid(f"Invalid clause '{clause}': expected <key> <comparator> <value>.")
        prefix = (match.group("prefix") or "").lower()
        key = match.group("quoted") if match.group("quoted") is not None else match.group("bare")
        rest = clause[match.end() :].lstrip()
        comparator = next((c for c in COMPARATORS if rest.upper().startswith(c)), None)
        if comparator is None:
            raise _invalid(f"Invalid clause '{clause}': expected one of {', '.join(COMPARATORS)} after '{key}'.")
        value = _parse_value(rest[len(comparator) :], clause)
        kind = "tag" if prefix.startswith("tag") else "attribute"
        clauses.append(Clause(kind=kind, key=key, comparator=comparator, value=value))
    return clauses


def _like_regex(pattern: str) -> str:
    """SQL LIKE (% any run, _ any one character) as an anchored regular expression."""
    parts = ["^"]
    for char in pattern:
        parts.append(".*" if char == "%" else "." if char == "_" else re.escape(char))
    return "".join(parts) + "$"


def _condition(field: str, comparator: str, value: Any, *, missing_matches_ne: bool = False) -> Q:
    if comparator == "=":
        return Q(**{field: value})
    if comparator == "!=":
        unequal = ~Q(**{field: value})
        return (unequal | Q(**{f"{field}__isnull": True})) if missing_matches_ne else unequal
    if comparator in ("LIKE", "ILIKE"):
        return Q(**{f"{field}__{'regex' if comparator == 'LIKE' else 'iregex'}": _like_regex(str(value))})
    if comparator in ("IN", "NOT IN"):
        found = Q(**{f"{field}__in": value})
        return ~found if comparator == "NOT IN" else found
    return Q(**{f"{field}__{ {'<': 'lt', '<=': 'lte', '>': 'gt', '>=': 'gte'}[comparator] }": value})


def apply_filter(queryset: QuerySet[Any], text: str, *, fields: dict[str, str]) -> QuerySet[Any]:
    """queryset narrowed by an MLflow filter (fields: MODEL_FIELDS or VERSION_FIELDS); raises MlflowError."""
    for n, clause in enumerate(parse_filter(text)):
        if clause.kind == "tag":
            if clause.comparator not in TAG_COMPARATORS or not isinstance(clause.value, str):
                raise _invalid(f"Invalid comparison for tag '{clause.key}': use =, !=, LIKE or ILIKE with a string.")
            alias = f"mlflow_tag_{n}"
            queryset = queryset.annotate(**{alias: attribute_text(clause.key)})
            queryset = queryset.filter(_condition(alias, clause.comparator, clause.value, missing_matches_ne=True))
            continue
        key = clause.key.lower()
        if key not in fields:
            raise _invalid(f"Invalid attribute key '{clause.key}' specified. Valid keys are {sorted(fields)}.")
        numeric = key in NUMBER_FIELDS
        allowed = NUMBER_COMPARATORS if numeric else STRING_COMPARATORS
        if clause.comparator not in allowed:
            raise _invalid(f"Invalid comparator '{clause.comparator}' for '{key}'; use one of {sorted(allowed)}.")
        if numeric != isinstance(clause.value, int):
            wanted = "an integer" if numeric else "a quoted string"
            raise _invalid(f"Invalid value for '{key}': expected {wanted}.")
        queryset = queryset.filter(_condition(fields[key], clause.comparator, clause.value))
    return queryset


def exact_name(text: str) -> str | None:
    """The name an MLflow filter asks for exactly (`name = '…'`, as MlflowClient.search_model_versions is mostly
    called), or None; raises MlflowError for a filter that cannot be read."""
    for clause in parse_filter(text):
        if clause.kind == "attribute" and clause.key.lower() == "name" and clause.comparator == "=":
            return clause.value if isinstance(clause.value, str) else None
    return None


def order_fields(order_by: list[str], *, keys: dict[str, str], default: list[str]) -> list[str]:
    """Django order_by() fields for MLflow's order_by entries ("<key> [ASC|DESC]"); raises MlflowError."""
    fields: list[str] = []
    seen: set[str] = set()
    for entry in order_by:
        parts = entry.strip().split()
        if not parts or len(parts) > 2 or (len(parts) == 2 and parts[1].upper() not in ("ASC", "DESC")):
            raise _invalid(f"Invalid order_by clause '{entry}'.")
        key = parts[0].strip("`").lower()
        if key not in keys:
            raise _invalid(f"Invalid order_by key '{parts[0]}'. Valid keys are {sorted(keys)}.")
        if key in seen:
            raise _invalid(f"order_by contains duplicate fields: {key}.")
        seen.add(key)
        descending = len(parts) == 2 and parts[1].upper() == "DESC"
        fields.append(("-" if descending else "") + keys[key])
    return fields + [field for field in default if field.lstrip("-") not in {f.lstrip("-") for f in fields}]


def offset_of(page_token: str | None) -> int:
    """The offset an opaque page token carries (ours: base64 of {"offset": n}); raises MlflowError."""
    if not page_token:
        return 0
    try:
        offset = json.loads(base64.urlsafe_b64decode(page_token.encode()))["offset"]
    except (ValueError, KeyError, TypeError) as error:
        raise _invalid("Invalid page token: pass the next_page_token of an earlier search.") from error
    if not isinstance(offset, int) or offset < 0:
        raise _invalid("Invalid page token: pass the next_page_token of an earlier search.")
    return offset


def page_token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()


def bounded(max_results: str | None, *, default: int, most: int) -> int:
    """max_results as an integer from 1 to most; raises MlflowError."""
    if max_results in (None, ""):
        return default
    try:
        value = int(str(max_results))
    except ValueError as error:
        raise _invalid(f"Invalid value for max_results: {max_results}.") from error
    if not 1 <= value <= most:
        raise _invalid(f"Invalid value for max_results. It must be at most {most}, but got value {value}.")
    return value
