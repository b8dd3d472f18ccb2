"""Model names are normalised (NFKC), refuse invisible and control characters, and may not look like an existing
model's name: in the service, so the page, the REST API and the MLflow API refuse alike and create nothing."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from activity.models import ActivityEntry
from api.services import create_api_token
from catalog.models import RegisteredModel
from catalog.services import CatalogError, register_model
from core.names import UnusableName, clean_name, skeleton
from tests.factories import UserFactory

REAL = "Card Fraud Detector"


@pytest.mark.parametrize(
    ("one", "other"),
    [
        (REAL, "Cаrd Fraud Detector"),  # Cyrillic а
        (REAL, "Card Fraud Detеctor"),  # Cyrillic е
        (REAL, "CARD FRAUD DETECTOR"),
        (REAL, "Card Fraud Detect0r"),
        ("Model 1", "Model l"),
        ("Model 1", "Model I"),
        ("Card", "ＣＡＲＤ"),  # fullwidth
        ("Card", "𝐂𝐚𝐫𝐝"),  # mathematical bold
        ("Straße", "STRASSE"),
    ],
)
def test_look_alike_names_share_a_skeleton(one: str, other: str) -> None:
    assert skeleton(one) == skeleton(other)


@pytest.mark.parametrize(
    ("one", "other"),
    [("Churn v2", "Churn v3"), (REAL, "Card Fraud Detectors"), ("Model", "Модуль"), ("Fraud", "Fraus")],
)
def test_different_names_have_different_skeletons(one: str, other: str) -> None:
    assert skeleton(one) != skeleton(other)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        (f"{REAL}\u200b", "U+200B"),  # zero-width space
        ("Fraud\u202etxt.exe", "U+202E"),  # right-to-left override
        ("Fraud\u2066x\u2069", "U+2066"),  # left-to-right isolate
        ("Fraud\x07", "U+0007"),  # bell
        ("Fraud\u00ad", "U+00AD"),  # soft hyphen
    ],
)
def test_invisible_and_control_characters_are_refused_by_name(text: str, code: str) -> None:
    with pytest.raises(UnusableName, match=re.escape(code)):
        clean_name(text)


def test_names_are_normalised_and_spaces_collapsed() -> None:
    assert clean_name("  ＣＡＲＤ   Fraud\tDetector ") == "CARD Fraud Detector"
    assert clean_name("ﬁne tuned") == "fine tuned"  # the ligature ﬁ


@pytest.fixture
def alice(db: None) -> Any:
    return UserFactory.create(username="alice")


@pytest.fixture
def existing(db: None) -> RegisteredModel:
    return register_model(actor=UserFactory.create(username="bob"), name=REAL, visibility="private")


def test_the_service_stores_the_normalised_name(alice: Any) -> None:
    model = register_model(actor=alice, name="  ＣＨＵＲＮ   predictor ")
    assert model.name == "CHURN predictor"
    assert model.name_skeleton == skeleton("CHURN predictor")


def test_the_service_refuses_a_look_alike_of_a_private_model_without_naming_it(
    alice: Any, existing: RegisteredModel
) -> None:
    with pytest.raises(CatalogError, match="looks too much like the name of an existing model") as refused:
        register_model(actor=alice, name="Cаrd Fraud Detector")
    assert REAL not in str(refused.value)
    assert RegisteredModel.objects.count() == 1


def test_a_name_that_only_differs_by_an_invisible_character_is_refused(alice: Any, existing: RegisteredModel) -> None:
    with pytest.raises(CatalogError, match="U\\+200B ZERO WIDTH SPACE"):
        register_model(actor=alice, name=f"{REAL}\u200b")


# The same refusal through every entry point; each returns the message it showed, and nothing is created.
def _page(user: Any, name: str) -> tuple[int, str]:
    client = Client()
    client.force_login(user)
    response = client.post(
        "/models/new/",
        {"name": name, "visibility": "organization", "task_type": "unknown", "data_type": "unknown", "labels": ""},
    )
    return response.status_code, response.content.decode()


def _rest(user: Any, name: str) -> tuple[int, str]:
    _, secret = create_api_token(actor=user, name="names")
    response = Client().post(
        "/api/v1/models",
        json.dumps({"name": name}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
    )
    return response.status_code, response.json()["error"]["message"]


def _mlflow(user: Any, name: str) -> tuple[int, str]:
    _, secret = create_api_token(actor=user, name="names")
    response = Client().post(
        "/api/2.0/mlflow/registered-models/create",
        json.dumps({"name": name}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
    )
    return response.status_code, response.json()["message"]


ENTRY_POINTS: dict[str, Callable[[Any, str], tuple[int, str]]] = {"page": _page, "rest": _rest, "mlflow": _mlflow}


@pytest.mark.parametrize("entry", ENTRY_POINTS)
@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("Cаrd Fraud Detector", "looks too much like the name of an existing model"),
        ("Card Fraud Detector\u200b", "invisible or control characters (U+200B ZERO WIDTH SPACE)"),
        ("Card\u202eFraud", "invisible or control characters (U+202E RIGHT-TO-LEFT OVERRIDE)"),
    ],
)
def test_every_entry_point_refuses_alike_and_creates_nothing(
    alice: Any, existing: RegisteredModel, entry: str, name: str, message: str
) -> None:
    entries = ActivityEntry.objects.filter(model__isnull=False).count()  # (tokens made for the call log too)

    status, shown = ENTRY_POINTS[entry](alice, name)

    assert status in (200, 400), (status, shown)  # the page shows the form again with the error
    assert message in shown
    assert RegisteredModel.objects.count() == 1
    assert ActivityEntry.objects.filter(model__isnull=False).count() == entries


def test_a_clearly_different_name_is_registered_on_the_page(alice: Any, existing: RegisteredModel) -> None:
    assert _page(alice, "Card Fraud Scorer")[0] == 302
    assert RegisteredModel.objects.filter(name="Card Fraud Scorer").exists()
