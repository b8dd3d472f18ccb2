"""The catalog's search (names, descriptions, labels, version names; any case), its label and owner filters, and the
filters' suggestions as you type: what they find, what they never reveal, and how many queries they cost."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import RegisteredModel
from catalog.permissions import Role
from catalog.selectors import SUGGESTIONS
from catalog.services import add_collaborator
from tests.factories import ModelFactory, UserFactory, VersionFactory
from tests.helpers import HTMX, QUERY_SIZES, assert_get_within, client_for, select, tile_names


@pytest.fixture
def shelf(owner: Any) -> dict[str, RegisteredModel]:
    """Models owner sees: churn (a version v1.3.3 labelled xgboost), fraud (labelled xgboost), speech; and a model
    private to Alice, labelled secret-project, which owner may not see."""
    alice = UserFactory.create(username="Alice")
    churn = ModelFactory.create(owner=owner, name="Churn Predictor", description="Predicts customer churn.")
    VersionFactory.create(model=churn, name="v1.3.3", labels=["xgboost"])
    VersionFactory.create(model=churn, name="v2.0.0")
    fraud = ModelFactory.create(owner=alice, name="Fraud Detector", labels=["xgboost", "payments"])
    speech = ModelFactory.create(owner=owner, name="Speech", description="Transcribes CALLS.", labels=["audio"])
    hidden = ModelFactory.create(owner=alice, name="Hidden", labels=["secret-project"], visibility="private")
    VersionFactory.create(model=hidden, name="v9.9.9")
    return {"churn": churn, "fraud": fraud, "speech": speech, "hidden": hidden}


def names(client: Any, query: str) -> list[str]:
    return tile_names(client.get(f"/models/?{query}"))


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("q=xgboost", ["Churn Predictor", "Fraud Detector"]),  # a version's label, a model's label
        ("q=XGBoost", ["Churn Predictor", "Fraud Detector"]),
        ("q=v1.3.3", ["Churn Predictor"]),  # a version's name
        ("q=V1.3", ["Churn Predictor"]),
        ("q=calls", ["Speech"]),  # a description, in another case
        ("q=CHURN+pred", ["Churn Predictor"]),
        ("q=payments", ["Fraud Detector"]),
        ("q=v9.9.9", []),  # a version of a model owner may not see
        ("q=secret", []),  # nor its label
        ("q=%25", []),  # a wildcard character is matched literally
        ("label=XGBOOST", ["Fraud Detector"]),  # the label filter ignores case (model labels)
        ("label=xgb", []),  # and is exact: suggestions help find the whole name
        ("owner=ali", ["Fraud Detector"]),  # the owner filter: the start of a username, any case
        ("owner=ALICE", ["Fraud Detector"]),
        ("owner=OWN", ["Churn Predictor", "Speech"]),
        ("owner=lice", []),
    ],
)
def test_search_and_filters(shelf: Any, owner: Any, query: str, expected: list[str]) -> None:
    assert names(client_for(owner), query) == expected


def test_the_search_box_says_what_it_searches(owner: Any) -> None:
    page = client_for(owner).get("/models/").text
    [box] = select(page, "input", name="q")
    assert box.attrs["placeholder"] == "Name, description, label or version"


def suggestions(client: Any, kind: str, text: str) -> list[str]:
    response = client.get(f"/suggestions/{kind}s/?{kind}={text}", headers=HTMX)
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    return [str(option.attrs["value"]) for option in select(response.text, "option")]


def test_label_suggestions_contain_the_text_in_any_case_and_only_labels_of_visible_models(
    shelf: Any, owner: Any, outsider: Any
) -> None:
    client = client_for(owner)
    assert suggestions(client, "label", "XG") == ["xgboost"]
    assert suggestions(client, "label", "a") == ["audio", "payments"]
    assert suggestions(client, "label", "secret") == []  # a private model's label is never suggested
    assert suggestions(client, "label", "") == []
    add_collaborator(actor=shelf["hidden"].owner, model=shelf["hidden"], user=owner, role=Role.VIEWER)
    assert suggestions(client, "label", "secret") == ["secret-project"]
    assert suggestions(client_for(outsider), "label", "secret") == []


def test_owner_suggestions_start_with_the_text_and_name_only_owners_of_visible_models(
    shelf: Any, owner: Any, outsider: Any
) -> None:
    UserFactory.create(username="alfred")  # owns nothing: never suggested
    lonely = UserFactory.create(username="alvin")
    ModelFactory.create(owner=lonely, name="Alvin's private model", visibility="private")
    assert suggestions(client_for(owner), "owner", "AL") == ["Alice"]
    assert suggestions(client_for(owner), "owner", "ow") == ["owner"]
    assert suggestions(client_for(lonely), "owner", "al") == ["Alice", "alvin"]


def test_suggestions_are_limited(owner: Any) -> None:
    for n in range(SUGGESTIONS + 5):
        ModelFactory.create(owner=UserFactory.create(username=f"team{n:02d}"), name=f"M{n}", labels=[f"team-{n:02d}"])
    client = client_for(owner)
    assert suggestions(client, "label", "team") == [f"team-{n:02d}" for n in range(SUGGESTIONS)]
    assert suggestions(client, "owner", "team") == [f"team{n:02d}" for n in range(SUGGESTIONS)]


def test_suggestions_need_a_signed_in_user_and_a_get(client: Any, owner: Any) -> None:
    assert client.get("/suggestions/labels/?label=x")["Location"].startswith("/accounts/login/")
    assert client_for(owner).post("/suggestions/owners/?owner=x").status_code == 405


def test_the_filters_offer_a_datalist_without_javascript_and_refresh_it_with_htmx(shelf: Any, owner: Any) -> None:
    page = client_for(owner).get("/models/").text
    [label] = select(page, "input", name="label")
    assert label.attrs["list"] == "label-options"
    assert label.attrs["hx-get"] == "/suggestions/labels/"
    assert label.attrs["hx-target"] == "#label-options"
    [datalist] = select(page, "datalist", id="label-options")
    assert [o.attrs["value"] for o in select(datalist.html, "option")] == ["audio", "payments", "xgboost"]
    [owners] = select(page, "datalist", id="owner-options")
    assert [o.attrs["value"] for o in select(owners.html, "option")] == ["Alice", "owner"]


def build(size: int, reader: Any) -> None:
    for n in range(size):
        model_owner = UserFactory.create(username=f"owner{n}")
        model = ModelFactory.create(
            owner=model_owner, name=f"Model {n:02d}", labels=[f"xgboost-{n}"], visibility="private"
        )
        VersionFactory.create(model=model, name=f"v1.{n}.3", labels=["xgboost"])
        if n % 2:
            add_collaborator(actor=model_owner, model=model, user=reader, role=Role.VIEWER)


@pytest.mark.parametrize("size", QUERY_SIZES)
@pytest.mark.parametrize(
    ("url", "headers", "bound"),
    [
        ("/models/?q=xgboost", {}, 6),  # as the catalog page without a search
        ("/models/?q=V1.1&page=2", {}, 6),
        ("/models/?q=xgboost&label=xgboost-1&owner=OWN", HTMX, 5),
        ("/suggestions/labels/?label=xgb", HTMX, 3),  # session, user, the suggestions
        ("/suggestions/owners/?owner=own", HTMX, 3),
    ],
)
def test_search_and_suggestions_run_a_bounded_number_of_queries(
    reader: Any, django_assert_max_num_queries: Any, size: int, url: str, headers: dict[str, str], bound: int
) -> None:
    build(size, reader)
    assert_get_within(client_for(reader), url, headers, django_assert_max_num_queries, bound)


@pytest.mark.postgres
def test_the_search_uses_the_trigram_indexes_on_postgresql(reader: Any) -> None:
    build(3, reader)
    with CaptureQueriesContext(connection) as queries:
        client_for(reader).get("/models/?q=xgboost")
    [search] = [q["sql"] for q in queries.captured_queries if "UNION" in q["sql"] and "LIMIT" in q["sql"]]
    with connection.cursor() as cursor:
        # Tiny tables: make the planner show what it can use (a scan of a primary key with a filter is no better
        # than a sequential scan, and would hide the trigram index on the label table).
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute(f"EXPLAIN {search}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    for index in ("catalog_model_name_trgm_idx", "catalog_model_desc_trgm_idx", "catalog_label_name_trgm_idx"):
        assert index in plan, plan
