"""Form parsing and validation messages: labels, attributes, version and model names."""

from __future__ import annotations

from typing import Any

import pytest
from django import forms

from catalog.forms import (
    MAX_ATTRIBUTE_KEY,
    MAX_ATTRIBUTE_VALUE,
    MAX_ATTRIBUTES,
    MAX_LABELS,
    CollaboratorForm,
    ModelEditForm,
    ModelRegisterForm,
    VersionForm,
    format_attributes,
    parse_attributes,
    parse_labels,
)
from catalog.models import RegisteredModel
from tests.factories import GroupFactory, UserFactory


def _message(error: pytest.ExceptionInfo[forms.ValidationError]) -> str:
    return " ".join(error.value.messages)


def _errors(form: forms.Form, field: str) -> str:
    return " ".join(str(error) for error in form.errors[field])


# parse_labels


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", []),
        ("   ", []),
        ("nlp", ["nlp"]),
        ("NLP, Vision", ["nlp", "vision"]),
        ("vision,nlp\n, nlp,,  churn ,", ["churn", "nlp", "vision"]),
        ("team-search, v1.2, a_b, 9lives", ["9lives", "a_b", "team-search", "v1.2"]),
        ("x" * 50, ["x" * 50]),
    ],
)
def test_parse_labels_accepts_good_input(text: str, expected: list[str]) -> None:
    assert parse_labels(text) == expected


@pytest.mark.parametrize(
    ("text", "bad"),
    [
        ("nlp, -dash", "-dash"),
        ("nlp, two words", "two words"),
        ("nlp vision", "nlp vision"),
        ("_under", "_under"),
        (".dot", ".dot"),
        ("über", "über"),
        ("semi;colon", "semi;colon"),
        ("<script>", "<script>"),
        ("x" * 51, "x" * 51),
    ],
)
def test_parse_labels_names_the_bad_labels(text: str, bad: str) -> None:
    with pytest.raises(forms.ValidationError) as error:
        parse_labels(text)

    message = _message(error)
    assert "lowercase letters, digits" in message
    assert message.endswith(f"Not valid: {bad}")


def test_parse_labels_names_at_most_five_bad_labels() -> None:
    with pytest.raises(forms.ValidationError) as error:
        parse_labels("-a, -b, -c, -d, -e, -f, -g")

    assert _message(error).endswith("Not valid: -a, -b, -c, -d, -e")


def test_parse_labels_limits_their_number() -> None:
    assert len(parse_labels(", ".join(f"l{n}" for n in range(MAX_LABELS)))) == MAX_LABELS

    with pytest.raises(forms.ValidationError) as error:
        parse_labels(", ".join(f"l{n}" for n in range(MAX_LABELS + 1)))

    assert _message(error) == f"At most {MAX_LABELS} labels."


def test_parse_labels_counts_duplicates_once() -> None:
    assert parse_labels(", ".join(["nlp", " NLP "] * MAX_LABELS)) == ["nlp"]


# parse_attributes


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", {}),
        ("\n\n  \n", {}),
        ("framework = pytorch", {"framework": "pytorch"}),
        ("a=1\n\n  b =  two words  \n", {"a": "1", "b": "two words"}),
        ("query = x=1&y=2", {"query": "x=1&y=2"}),
        ("empty =", {"empty": ""}),
        ("Key = Value\r\nkey = value", {"Key": "Value", "key": "value"}),
    ],
)
def test_parse_attributes_accepts_good_input(text: str, expected: dict[str, str]) -> None:
    assert parse_attributes(text) == expected


def test_parse_attributes_keeps_the_order_written() -> None:
    assert list(parse_attributes("z = 1\na = 2\nm = 3")) == ["z", "a", "m"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("no equals sign", "Line 1: write each attribute as “key = value”."),
        ("a = 1\n\n= orphan value", "Line 3: write each attribute as “key = value”."),
        ("   = x", "Line 1: write each attribute as “key = value”."),
        (
            "k" * (MAX_ATTRIBUTE_KEY + 1) + " = v",
            f"Line 1: keys are at most {MAX_ATTRIBUTE_KEY} characters, values {MAX_ATTRIBUTE_VALUE}.",
        ),
        (
            "a = 1\nk = " + "v" * (MAX_ATTRIBUTE_VALUE + 1),
            f"Line 2: keys are at most {MAX_ATTRIBUTE_KEY} characters, values {MAX_ATTRIBUTE_VALUE}.",
        ),
        ("a = 1\nb = 2\na = 3", "Line 3: “a” appears twice."),
        ("a = 1\n a  = 3", "Line 2: “a” appears twice."),
    ],
)
def test_parse_attributes_names_the_bad_line(text: str, message: str) -> None:
    with pytest.raises(forms.ValidationError) as error:
        parse_attributes(text)

    assert _message(error) == message


def test_parse_attributes_accepts_the_longest_key_and_value() -> None:
    key, value = "k" * MAX_ATTRIBUTE_KEY, "v" * MAX_ATTRIBUTE_VALUE

    assert parse_attributes(f"{key} = {value}") == {key: value}


def test_parse_attributes_limits_their_number() -> None:
    assert len(parse_attributes("\n".join(f"k{n} = v" for n in range(MAX_ATTRIBUTES)))) == MAX_ATTRIBUTES

    with pytest.raises(forms.ValidationError) as error:
        parse_attributes("\n".join(f"k{n} = v" for n in range(MAX_ATTRIBUTES + 1)))

    assert _message(error) == f"At most {MAX_ATTRIBUTES} attributes."


def test_format_attributes_round_trips() -> None:
    attributes = {"framework": "pytorch", "auc": "0.91", "query": "a=b"}

    assert parse_attributes(format_attributes(attributes)) == attributes


# VersionForm


def _version_data(**fields: str) -> dict[str, str]:
    return {"name": "v2.0.0", "description": "", "labels": "", "attributes": "", "artifact_uri": "", **fields}


def test_version_form_cleans_good_input(model: RegisteredModel) -> None:
    form = VersionForm(
        data=_version_data(
            name=" v2.0.0 ",
            labels="GBM, tabular",
            attributes="auc = 0.91",
            source_run_url="runs.example.com/42",
        ),
        model=model,
    )

    assert form.is_valid(), form.errors
    assert form.cleaned_data["name"] == "v2.0.0"
    assert form.cleaned_data["labels"] == ["gbm", "tabular"]
    assert form.cleaned_data["attributes"] == {"auc": "0.91"}
    assert form.cleaned_data["source_run_url"] == "https://runs.example.com/42"


def test_version_form_reports_a_duplicate_name(version: Any) -> None:
    form = VersionForm(data=_version_data(name="v1.0.0"), model=version.model)

    assert not form.is_valid()
    assert form.errors["name"] == ["Version “v1.0.0” already exists for this model."]


def test_version_form_allows_a_name_used_by_another_model(version: Any, org_model: RegisteredModel) -> None:
    assert VersionForm(data=_version_data(name="v1.0.0"), model=org_model).is_valid()


@pytest.mark.parametrize("name", ["new", "New", "EDIT"])
def test_version_form_reports_a_reserved_name(model: RegisteredModel, name: str) -> None:
    form = VersionForm(data=_version_data(name=name), model=model)

    assert not form.is_valid()
    assert form.errors["name"] == [f"“{name}” is reserved; choose another version name."]


@pytest.mark.parametrize("name", ["-v1", "v 1", "v/1", "vé", "<b>v1</b>"])
def test_version_form_reports_an_invalid_name(model: RegisteredModel, name: str) -> None:
    form = VersionForm(data=_version_data(name=name), model=model)

    assert not form.is_valid()
    assert form.errors["name"] == ["Start with a letter or digit; then use letters, digits, '.', '_' or '-'."]


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"name": ""}, "name", "This field is required."),
        ({"name": "v" * 101}, "name", "Ensure this value has at most 100 characters (it has 101)."),
        ({"labels": "Bad!"}, "labels", "Not valid: bad!"),
        ({"attributes": "oops"}, "attributes", "Line 1: write each attribute as “key = value”."),
        ({"source_run_url": "http://"}, "source_run_url", "Enter a valid URL."),
        ({"description": "d" * 10_001}, "description", "Ensure this value has at most 10000 characters"),
    ],
)
def test_version_form_error_messages(model: RegisteredModel, fields: dict[str, str], field: str, message: str) -> None:
    form = VersionForm(data=_version_data(**fields), model=model)

    assert not form.is_valid()
    assert message in _errors(form, field)


def test_version_form_for_editing_has_no_name(version: Any) -> None:
    form = VersionForm(data=_version_data(name=""), model=version.model, editing=True)

    assert "name" not in form.fields
    assert form.is_valid(), form.errors


# ModelRegisterForm / ModelEditForm


def _model_data(**fields: str) -> dict[str, str]:
    return {
        "name": "Fraud Detector",
        "description": "",
        "labels": "",
        "task_type": "unknown",
        "data_type": "unknown",
        "visibility": "organization",
        **fields,
    }


def test_model_register_form_cleans_good_input(db: None) -> None:
    form = ModelRegisterForm(data=_model_data(name="  Fraud Detector  ", labels="risk, nlp"))

    assert form.is_valid(), form.errors
    assert form.cleaned_data["name"] == "Fraud Detector"
    assert form.cleaned_data["labels"] == ["nlp", "risk"]


@pytest.mark.parametrize("name", ["Churn Predictor", "churn predictor", "CHURN PREDICTOR", "  Churn Predictor  "])
def test_model_register_form_reports_a_duplicate_name_ignoring_case(model: RegisteredModel, name: str) -> None:
    form = ModelRegisterForm(data=_model_data(name=name))

    assert not form.is_valid()
    assert form.errors["name"] == ["A model with this name already exists (names ignore case)."]


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"name": ""}, "name", "This field is required."),
        ({"name": "   "}, "name", "This field is required."),
        ({"name": "m" * 201}, "name", "Ensure this value has at most 200 characters (it has 201)."),
        ({"task_type": "astrology"}, "task_type", "Select a valid choice."),
        ({"data_type": ""}, "data_type", "This field is required."),
        ({"visibility": "public"}, "visibility", "Select a valid choice."),
        ({"labels": "-x"}, "labels", "Not valid: -x"),
    ],
)
def test_model_register_form_error_messages(db: None, fields: dict[str, str], field: str, message: str) -> None:
    form = ModelRegisterForm(data=_model_data(**fields))

    assert not form.is_valid()
    assert message in _errors(form, field)


def test_model_edit_form_offers_visibility_only_to_managers(db: None) -> None:
    assert "visibility" in ModelEditForm(can_manage=True).fields
    assert "visibility" not in ModelEditForm(can_manage=False).fields


# CollaboratorForm


def test_collaborator_form_finds_an_active_user_or_a_group(db: None) -> None:
    bob = UserFactory.create(username="bob")
    team = GroupFactory.create(name="risk team")

    user_form = CollaboratorForm(data={"kind": "user", "name": " bob ", "role": "editor"})
    group_form = CollaboratorForm(data={"kind": "group", "name": "risk team", "role": "viewer"})

    assert user_form.is_valid(), user_form.errors
    assert user_form.cleaned_data["principal"] == bob
    assert group_form.is_valid(), group_form.errors
    assert group_form.cleaned_data["principal"] == team


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"kind": "user", "name": "nobody", "role": "viewer"}, "No active user is called “nobody”."),
        ({"kind": "user", "name": "retired", "role": "viewer"}, "No active user is called “retired”."),
        ({"kind": "group", "name": "ghosts", "role": "viewer"}, "No group is called “ghosts”."),
    ],
)
def test_collaborator_form_reports_an_unknown_principal(db: None, data: dict[str, str], message: str) -> None:
    UserFactory.create(username="retired", is_active=False)

    form = CollaboratorForm(data=data)

    assert not form.is_valid()
    assert form.errors["name"] == [message]


def test_collaborator_form_refuses_an_unknown_role(db: None) -> None:
    UserFactory.create(username="bob")

    form = CollaboratorForm(data={"kind": "user", "name": "bob", "role": "admin"})

    assert not form.is_valid()
    assert "role" in form.errors
