"""Bad input on every form and URL: clear messages, nothing written, escaped output, never a 500."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import pytest
from django.contrib.auth.models import Group
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from activity.models import ActivityEntry
from catalog.models import ModelVersion, RegisteredModel, Stage
from catalog.permissions import Role
from catalog.services import add_collaborator
from tests.factories import GroupFactory, ModelFactory, UserFactory
from tests.helpers import HTMX, client_for, set_stage, visible_text

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as Response

XSS = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"

VALID_MODEL = {"name": "Valid Name", "task_type": "unknown", "data_type": "unknown", "visibility": "organization"}
VALID_EDIT = {"description": "", "labels": "", "task_type": "unknown", "data_type": "unknown", "visibility": "private"}


def assert_escaped(response: Response) -> None:
    assert response.status_code == 200
    assert XSS not in response.text
    assert ESCAPED in response.text


def assert_refused(response: Response, message: str) -> None:
    assert response.status_code == 200
    assert 'class="errorlist' in response.text or 'class="form-errors"' in response.text
    assert message in response.text


# --- Model names ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "This field is required."),
        ("   ", "This field is required."),
        ("\t\n", "This field is required."),
        ("x" * 201, "Ensure this value has at most 200 characters (it has 201)."),
        ("nul\x00byte", "Null characters are not allowed."),
    ],
    ids=["empty", "spaces", "whitespace", "201-chars", "nul"],
)
def test_bad_model_names_are_refused(owner: Any, name: str, message: str) -> None:
    response = client_for(owner).post("/models/new/", VALID_MODEL | {"name": name})
    assert_refused(response, message)
    assert not RegisteredModel.objects.exists()


def test_a_200_character_name_is_accepted(owner: Any) -> None:
    name = "n" * 200
    response = client_for(owner).post("/models/new/", VALID_MODEL | {"name": name})
    assert response.status_code == 302
    assert RegisteredModel.objects.get().name == name


@pytest.mark.parametrize("name", ["churn predictor", "CHURN PREDICTOR", "  Churn Predictor  ", "cHuRn PrEdIcToR"])
def test_duplicate_model_names_ignore_case(model: Any, owner: Any, name: str) -> None:
    response = client_for(owner).post("/models/new/", VALID_MODEL | {"name": name})
    assert_refused(response, "A model with this name already exists (names ignore case).")
    assert RegisteredModel.objects.count() == 1


@pytest.mark.parametrize(
    ("name", "slug"),
    [("New", "new-2"), ("Edit", "edit-2"), ("模型", "model"), ("!!!", "model"), ("Ünïcödé Model", "unicode-model")],
)
def test_names_that_slugify_badly_get_a_working_url(owner: Any, name: str, slug: str) -> None:
    client = client_for(owner)
    response = client.post("/models/new/", VALID_MODEL | {"name": name})
    assert response.status_code == 302
    assert response["Location"] == f"/models/{slug}/"
    assert f"<h1>{name}</h1>" in client.get(response["Location"]).text
    assert "<h1>Register model</h1>" in client.get("/models/new/").text


def test_two_names_with_the_same_slug_get_two_urls(owner: Any) -> None:
    client = client_for(owner)
    first = client.post("/models/new/", VALID_MODEL | {"name": "Churn-Predictor"})
    second = client.post("/models/new/", VALID_MODEL | {"name": "Churn Predictor"})
    assert first["Location"] == "/models/churn-predictor/"
    assert second["Location"] == "/models/churn-predictor-2/"
    assert "<h1>Churn Predictor</h1>" in client.get("/models/churn-predictor-2/").text


# --- Version names ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["v 1", "v1 beta", "a/b", "../etc", "vé", "版本", "-v1", ".hidden", "_x", "v1?", "v1#2", "v" * 101, "v1\x00"],
)
def test_bad_version_names_are_refused(model: Any, owner: Any, name: str) -> None:
    response = client_for(owner).post(f"/models/{model.slug}/versions/new/", {"name": name})
    assert response.status_code == 200
    assert 'class="errorlist' in response.text
    assert not model.versions.exists()


def test_empty_version_name_is_refused(model: Any, owner: Any) -> None:
    response = client_for(owner).post(f"/models/{model.slug}/versions/new/", {"name": "  "})
    assert_refused(response, "This field is required.")


def test_duplicate_version_name_is_refused(model: Any, version: Any, owner: Any) -> None:
    response = client_for(owner).post(f"/models/{model.slug}/versions/new/", {"name": "v1.0.0"})
    assert_refused(response, "Version “v1.0.0” already exists for this model.")
    assert model.versions.count() == 1


def test_version_names_differing_in_case_are_distinct_pages(model: Any, version: Any, owner: Any) -> None:
    client = client_for(owner)
    response = client.post(f"/models/{model.slug}/versions/new/", {"name": "V1.0.0", "description": "upper"})
    assert response.status_code == 302
    assert "upper" in client.get("/models/churn-predictor/versions/V1.0.0/").text
    assert "upper" not in client.get("/models/churn-predictor/versions/v1.0.0/").text


def test_same_version_name_in_another_model_is_fine(model: Any, version: Any, owner: Any) -> None:
    other = ModelFactory.create(owner=owner, name="Other")
    response = client_for(owner).post(f"/models/{other.slug}/versions/new/", {"name": "v1.0.0"})
    assert response.status_code == 302


# --- Descriptions, labels, attributes, links --------------------------------------------------------------------

TOO_LONG = "Ensure this value has at most 10000 characters (it has 10001)."


def test_oversized_descriptions_are_refused_everywhere(model: Any, version: Any, owner: Any) -> None:
    client = client_for(owner)
    description = "d" * 10_001
    assert_refused(client.post("/models/new/", VALID_MODEL | {"description": description}), TOO_LONG)
    assert_refused(client.post(f"/models/{model.slug}/edit/", VALID_EDIT | {"description": description}), TOO_LONG)
    new_version = {"name": "v2", "description": description}
    assert_refused(client.post(f"/models/{model.slug}/versions/new/", new_version), TOO_LONG)
    edit_version = {"description": description}
    assert_refused(client.post(f"/models/{model.slug}/versions/v1.0.0/edit/", edit_version), TOO_LONG)
    assert RegisteredModel.objects.count() == 1
    assert model.versions.count() == 1
    model.refresh_from_db()
    version.refresh_from_db()
    assert model.description == "A model for tests."
    assert version.description == "A version for tests."


def test_a_10000_character_description_is_accepted(owner: Any) -> None:
    response = client_for(owner).post("/models/new/", VALID_MODEL | {"description": "d" * 10_000})
    assert response.status_code == 302


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        ("good, bad!", "Not valid: bad!"),
        ("-leading", "Not valid: -leading"),
        ("a" * 51, "Not valid: " + "a" * 51),
        ("émoji", "Not valid: émoji"),
        ("a/b", "Not valid: a/b"),
        (", ".join(f"l{n}" for n in range(21)), "At most 20 labels."),
        ("nul\x00", "Null characters are not allowed."),
    ],
)
def test_invalid_labels_are_refused(model: Any, version: Any, owner: Any, labels: str, message: str) -> None:
    client = client_for(owner)
    assert_refused(client.post("/models/new/", VALID_MODEL | {"labels": labels}), message)
    assert_refused(client.post(f"/models/{model.slug}/edit/", VALID_EDIT | {"labels": labels}), message)
    assert_refused(client.post(f"/models/{model.slug}/versions/new/", {"name": "v2", "labels": labels}), message)
    assert_refused(client.post(f"/models/{model.slug}/versions/v1.0.0/edit/", {"labels": labels}), message)
    assert RegisteredModel.objects.count() == 1
    assert not model.labels.exists()
    assert not version.labels.exists()


def test_labels_are_normalised(owner: Any) -> None:
    response = client_for(owner).post("/models/new/", VALID_MODEL | {"labels": " NLP,nlp , Vision,, ,"})
    assert response.status_code == 302
    assert [label.name for label in RegisteredModel.objects.get().labels.all()] == ["nlp", "vision"]


@pytest.mark.parametrize(
    ("attributes", "message"),
    [
        ("no equals sign", "Line 1: write each attribute as “key = value”."),
        ("a = 1\n = 2", "Line 2: write each attribute as “key = value”."),
        ("k" * 101 + " = v", "Line 1: keys are at most 100 characters, values 500."),
        ("k = " + "v" * 501, "Line 1: keys are at most 100 characters, values 500."),
        ("a = 1\n\na = 2", "Line 3: “a” appears twice."),
        ("\n".join(f"k{n} = v" for n in range(51)), "At most 50 attributes."),
        ("a = 1\x00", "Null characters are not allowed."),
    ],
)
def test_malformed_attributes_are_refused(model: Any, version: Any, owner: Any, attributes: str, message: str) -> None:
    client = client_for(owner)
    new = client.post(f"/models/{model.slug}/versions/new/", {"name": "v2", "attributes": attributes})
    assert_refused(new, message)
    edit = client.post(f"/models/{model.slug}/versions/v1.0.0/edit/", {"attributes": attributes})
    assert_refused(edit, message)
    version.refresh_from_db()
    assert version.attributes == {}
    assert model.versions.count() == 1


def test_attributes_keep_equals_signs_in_values(model: Any, owner: Any) -> None:
    data = {"name": "v2", "attributes": "query = a=b\n  spaced key  =  spaced value  "}
    response = client_for(owner).post(f"/models/{model.slug}/versions/new/", data)
    assert response.status_code == 302
    assert model.versions.get(name="v2").attributes == {"query": "a=b", "spaced key": "spaced value"}


@pytest.mark.parametrize(
    "url",
    [
        "not a url",
        "javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "http://",
        "https://exa mple.com",
        "https://example.com/" + "x" * 1000,
    ],
)
def test_invalid_source_run_urls_are_refused(model: Any, version: Any, owner: Any, url: str) -> None:
    client = client_for(owner)
    new = client.post(f"/models/{model.slug}/versions/new/", {"name": "v2", "source_run_url": url})
    assert new.status_code == 200
    assert 'class="errorlist' in new.text
    edit = client.post(f"/models/{model.slug}/versions/v1.0.0/edit/", {"source_run_url": url})
    assert edit.status_code == 200
    version.refresh_from_db()
    assert version.source_run_url == ""
    assert model.versions.count() == 1


def test_source_run_url_without_scheme_gets_https(model: Any, owner: Any) -> None:
    data = {"name": "v2", "source_run_url": "runs.example.com/42"}
    assert client_for(owner).post(f"/models/{model.slug}/versions/new/", data).status_code == 302
    assert model.versions.get(name="v2").source_run_url == "https://runs.example.com/42"


def test_oversized_artifact_uri_is_refused(model: Any, owner: Any) -> None:
    data = {"name": "v2", "artifact_uri": "s3://" + "x" * 996}
    response = client_for(owner).post(f"/models/{model.slug}/versions/new/", data)
    assert_refused(response, "Ensure this value has at most 1000 characters (it has 1001).")


@pytest.mark.parametrize(
    ("field", "value"),
    [("task_type", "astrology"), ("data_type", "smell"), ("visibility", "secret"), ("visibility", "")],
)
def test_invalid_choices_are_refused(model: Any, owner: Any, field: str, value: str) -> None:
    client = client_for(owner)
    assert client.post("/models/new/", VALID_MODEL | {"name": "X", field: value}).status_code == 200
    assert client.post(f"/models/{model.slug}/edit/", VALID_EDIT | {field: value}).status_code == 200
    assert RegisteredModel.objects.count() == 1
    model.refresh_from_db()
    assert (model.task_type, model.data_type, model.visibility) == ("unknown", "unknown", "private")


# --- Unknown and odd URLs ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/models/no-such-model/",
        "/models/no-such-model/activity/",
        "/models/no-such-model/collaborators/",
        "/models/no-such-model/edit/",
        "/models/no-such-model/versions/new/",
        "/models/no-such-model/versions/v1.0.0/",
        "/models/no-such-model/versions/v1.0.0/edit/",
        "/models/churn-predictor/versions/v9/",
        "/models/churn-predictor/versions/v9/edit/",
        "/models/churn-predictor/versions/V1.0.0/",
        "/models/churn-predictor/versions/v1.0.0/nope/",
        "/models/Churn-Predictor/",
        "/models/churn-predictor/versions/%00/",
        "/models/churn-predictor/versions/%00/edit/",
        "/models/churn-predictor/versions/v%C3%A9/",
        "/models/churn-predictor/versions/%3Cscript%3E/",
        "/models/churn-predictor/versions/" + "v" * 500 + "/",
        "/models/%00/",
        "/models/%3Cscript%3E/",
        "/models/" + "m" * 500 + "/",
        "/nowhere/",
    ],
)
def test_unknown_urls_are_404(model: Any, version: Any, owner: Any, url: str) -> None:
    response = client_for(owner).get(url)
    assert response.status_code == 404
    assert "<h1>Not found</h1>" in response.text
    assert "<script>" not in response.text


@pytest.mark.parametrize("action", ["collaborators/add/", "collaborators/remove/", "edit/", "versions/new/"])
def test_posts_to_unknown_models_are_404(owner: Any, action: str) -> None:
    response = client_for(owner).post(f"/models/no-such-model/{action}", {"name": "x"})
    assert response.status_code == 404


@pytest.mark.parametrize(
    "query",
    [
        "q=%00",
        "label=%00",
        "owner=%00",
        "stage=%00",
        "sort=%00",
        "page=%00",
        "page=1e9",
        "page=99999999999999999999999",
        "q=" + "x" * 5000,
        "label=" + "x" * 51,
        "owner=" + "x" * 151,
        "stage=production&stage=bogus",
        "q=%25&label=%25",
        "q=_",
        "q='; DROP TABLE catalog_registeredmodel; --",
        "unknown=1",
    ],
)
def test_odd_catalog_queries_never_fail(model: Any, version: Any, owner: Any, query: str) -> None:
    client = client_for(owner)
    for url in (f"/models/?{query}", f"/models/churn-predictor/?{query}"):
        assert client.get(url).status_code == 200
        assert client.get(url, headers=HTMX | {"HX-Target": "versions-results"}).status_code == 200
    assert client.get(f"/models/churn-predictor/activity/?{query}").status_code == 200
    assert client.get(f"/models/churn-predictor/versions/v1.0.0/?{query}").status_code == 200
    assert RegisteredModel.objects.count() == 1


def test_percent_and_underscore_search_literally(owner: Any) -> None:
    ModelFactory.create(owner=owner, name="Plain")
    ModelFactory.create(owner=owner, name="100% Sure")
    response = client_for(owner).get("/models/?q=%25")
    assert "100% Sure" in response.text
    assert ">Plain<" not in response.text


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"kind": "user"},
        {"kind": "user", "name": "x" * 151, "role": "viewer"},
        {"kind": "user", "name": "\x00", "role": "viewer"},
        {"kind": "group", "name": "%", "role": "viewer"},
        {"kind": ["user", "group"], "name": "outsider", "role": "viewer"},
    ],
)
@pytest.mark.parametrize("action", ["add", "remove"])
def test_bad_collaborator_forms_change_nothing(
    model: Any, owner: Any, outsider: Any, data: dict[str, Any], action: str
) -> None:
    entries = ActivityEntry.objects.count()
    client = client_for(owner)
    for headers in ({}, HTMX):
        response = client.post(f"/models/{model.slug}/collaborators/{action}/", data, headers=headers)
        assert response.status_code in (200, 302)
    assert ActivityEntry.objects.count() == entries
    assert client_for(outsider).get(f"/models/{model.slug}/").status_code == 404


def test_login_with_bad_input_never_fails(db: None) -> None:
    client = client_for(None)
    for data in ({}, {"username": "\x00", "password": "\x00"}, {"username": "x" * 10_000, "password": "y"}):
        response = client.post("/accounts/login/", data)
        assert response.status_code == 200
    assert client.get("/accounts/login/?next=//evil.example.com/").status_code == 200


def test_login_does_not_redirect_off_site(owner: Any) -> None:
    client = client_for(None)
    data = {"username": "owner", "password": "pw", "next": "https://evil.example.com/"}
    response = client.post("/accounts/login/?next=https://evil.example.com/", data)
    assert response.status_code == 302
    assert "evil.example.com" not in response["Location"]


# --- HTML and script in every text field ------------------------------------------------------------------------


@pytest.fixture
def hostile(owner: Any) -> dict[str, Any]:
    """A model and a version whose every free-text field holds a script tag, registered through the forms."""
    client = client_for(owner)
    response = client.post(
        "/models/new/",
        VALID_MODEL | {"name": XSS, "description": f"About {XSS}", "labels": "safe"},
    )
    assert response.status_code == 302
    model = RegisteredModel.objects.get(name=XSS)
    response = client.post(
        f"/models/{model.slug}/versions/new/",
        {
            "name": "v1",
            "description": f"Version {XSS}",
            "attributes": f"{XSS} = {XSS}\nplain = {XSS}",
            "artifact_uri": f"s3://bucket/{XSS}",
            "source_run_url": 'https://runs.example.com/"onmouseover="alert(1)',
        },
    )
    assert response.status_code == 302
    version = model.versions.get(name="v1")
    set_stage(version, Stage.PRODUCTION)
    group = GroupFactory.create(name=XSS)
    add_collaborator(actor=owner, model=model, group=group, role=Role.VIEWER)
    return {"client": client, "model": model, "version": version, "slug": model.slug}


def test_script_in_model_fields_is_escaped_on_every_page(hostile: dict[str, Any]) -> None:
    client, slug = hostile["client"], hostile["slug"]
    pages = [
        "/",
        "/models/",
        "/models/?stage=production",
        "/models/?q=script",
        f"/models/{slug}/",
        f"/models/{slug}/activity/",
        f"/models/{slug}/collaborators/",
        f"/models/{slug}/edit/",
        f"/models/{slug}/versions/new/",
        f"/models/{slug}/versions/v1/",
        f"/models/{slug}/versions/v1/edit/",
    ]
    for url in pages:
        for headers in ({}, HTMX):
            response = client.get(url, headers=headers)
            assert response.status_code == 200, url
            assert XSS not in response.text, url
        assert ESCAPED in client.get(url).text, url


def test_script_in_model_description_is_escaped(hostile: dict[str, Any]) -> None:
    client, slug = hostile["client"], hostile["slug"]
    for url in ("/models/", f"/models/{slug}/", f"/models/{slug}/edit/"):
        response = client.get(url)
        assert XSS not in response.text
        assert f"About {ESCAPED}" in response.text


def test_script_in_version_fields_is_escaped(hostile: dict[str, Any], editor: Any) -> None:
    client, slug = hostile["client"], hostile["slug"]
    page = client.get(f"/models/{slug}/versions/v1/")
    assert_escaped(page)
    assert f"Version {ESCAPED}" in page.text
    seen = visible_text(page.text)  # the reader sees the text literally; the page holds no script element
    assert f"{XSS} {XSS}" in seen
    assert f"plain {XSS}" in seen
    assert f"s3://bucket/{XSS}" in seen
    assert '"onmouseover="' not in page.text
    assert 'href="https://runs.example.com/&quot;onmouseover=&quot;alert(1)"' in page.text

    form = client.get(f"/models/{slug}/versions/v1/edit/")
    assert_escaped(form)
    assert f"{ESCAPED} = {ESCAPED}" in form.text
    assert f'value="s3://bucket/{ESCAPED}"' in form.text
    assert '"onmouseover="' not in form.text


def test_script_in_a_group_name_is_escaped_in_the_collaborators_panel(hostile: dict[str, Any]) -> None:
    client, slug = hostile["client"], hostile["slug"]
    panel = client.get(f"/models/{slug}/collaborators/")
    assert_escaped(panel)
    assert f'aria-label="Remove group {ESCAPED}"' in panel.text
    assert f'name="name" value="{ESCAPED}"' in panel.text
    activity = client.get(f"/models/{slug}/activity/")
    assert f"gave group {ESCAPED} the Viewer role" in activity.text
    removed = client.post(f"/models/{slug}/collaborators/remove/", {"kind": "group", "name": XSS}, headers=HTMX)
    assert_escaped(removed)
    assert f"Removed group {ESCAPED} from the collaborators." in removed.text
    assert not Group.objects.get(name=XSS).registeredmodelgroupobjectpermission_set.exists()


def test_script_as_a_collaborator_name_is_escaped(hostile: dict[str, Any]) -> None:
    client, slug = hostile["client"], hostile["slug"]
    data = {"kind": "user", "name": XSS, "role": "viewer"}
    for headers in ({}, HTMX):
        response = client.post(f"/models/{slug}/collaborators/add/", data, headers=headers)
        assert_escaped(response)
        assert f"No active user is called “{ESCAPED}”." in response.text


def test_script_in_messages_is_escaped(owner: Any) -> None:
    client = client_for(owner)
    response = client.post("/models/new/", VALID_MODEL | {"name": XSS}, follow=True)
    assert_escaped(response)
    assert f"Registered {ESCAPED}. Register its first version next." in response.text


def test_script_in_labels_is_refused_and_escaped(model: Any, version: Any, owner: Any) -> None:
    client = client_for(owner)
    for url, data in (
        ("/models/new/", VALID_MODEL | {"labels": XSS}),
        (f"/models/{model.slug}/edit/", VALID_EDIT | {"labels": XSS}),
        (f"/models/{model.slug}/versions/new/", {"name": "v2", "labels": XSS}),
        (f"/models/{model.slug}/versions/v1.0.0/edit/", {"labels": XSS}),
    ):
        response = client.post(url, data)
        assert_escaped(response)
        assert f"Not valid: {ESCAPED}" in response.text
    assert not model.labels.exists()


def test_script_as_a_version_name_is_refused(model: Any, owner: Any) -> None:
    response = client_for(owner).post(f"/models/{model.slug}/versions/new/", {"name": XSS})
    assert_escaped(response)
    assert not model.versions.exists()


def test_script_in_filters_is_escaped(model: Any, version: Any, owner: Any) -> None:
    client = client_for(owner)
    for query in (f"q={XSS}", f"label={XSS}", f"owner={XSS}", f"stage={XSS}", f"sort={XSS}", f"page={XSS}"):
        for url in (f"/models/?{query}", f"/models/{model.slug}/?{query}"):
            for headers in ({}, HTMX, HTMX | {"HX-Target": "versions-results"}):
                response = client.get(url, headers=headers)
                assert response.status_code == 200
                assert XSS not in response.text


def test_script_in_a_search_box_is_escaped_in_its_value(owner: Any) -> None:
    response = client_for(owner).get(f"/models/?q={XSS}")
    assert f'value="{ESCAPED}"' in response.text


def test_script_in_a_first_name_is_escaped_on_home(db: None) -> None:
    user = UserFactory.create(username="mallory", first_name=XSS)
    response = client_for(user).get("/")
    assert_escaped(response)
    assert f"Welcome, {ESCAPED}" in response.text


def test_script_in_an_edited_model_is_escaped(model: Any, owner: Any) -> None:
    client = client_for(owner)
    assert client.post(f"/models/{model.slug}/edit/", VALID_EDIT | {"description": XSS}).status_code == 302
    assert_escaped(client.get(f"/models/{model.slug}/"))
    assert_escaped(client.get(f"/models/{model.slug}/edit/"))


def test_script_in_an_edited_version_is_escaped(model: Any, version: Any, owner: Any) -> None:
    client = client_for(owner)
    data = {"description": XSS, "attributes": f"k = {XSS}", "artifact_uri": XSS}
    assert client.post(f"/models/{model.slug}/versions/v1.0.0/edit/", data).status_code == 302
    page = client.get(f"/models/{model.slug}/versions/v1.0.0/")
    assert_escaped(page)
    assert page.text.count(ESCAPED) == 3


# --- Anything a user could type ---------------------------------------------------------------------------------

ANY_TEXT = st.text(st.characters(codec="utf-8"), max_size=300)
# Reproducible examples; the client is stateless between examples and every write is checked by its form.
FUZZ = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@FUZZ
@given(name=ANY_TEXT, description=ANY_TEXT, labels=ANY_TEXT, task_type=ANY_TEXT)
@example(name="\x00", description="\x00", labels="\x00", task_type="\x00")
def test_any_model_form_input_answers_200_or_302(
    model: Any, owner: Any, name: str, description: str, labels: str, task_type: str
) -> None:
    client = client_for(owner)
    data = {"name": name, "description": description, "labels": labels, "task_type": task_type}
    assert client.post("/models/new/", VALID_MODEL | data).status_code in (200, 302)
    assert client.post(f"/models/{model.slug}/edit/", VALID_EDIT | data).status_code in (200, 302)


@FUZZ
@given(name=ANY_TEXT, attributes=ANY_TEXT, artifact_uri=ANY_TEXT, source_run_url=ANY_TEXT)
@example(name="\x00", attributes="\x00 = \x00", artifact_uri="\x00", source_run_url="https://x.io/\x00")
def test_any_version_form_input_answers_200_or_302(
    model: Any, version: Any, owner: Any, name: str, attributes: str, artifact_uri: str, source_run_url: str
) -> None:
    client = client_for(owner)
    data = {"attributes": attributes, "artifact_uri": artifact_uri, "source_run_url": source_run_url}
    assert client.post(f"/models/{model.slug}/versions/new/", data | {"name": name}).status_code in (200, 302)
    if ModelVersion.objects.filter(pk=version.pk, lock_level="open").exists():
        assert client.post(f"/models/{model.slug}/versions/v1.0.0/edit/", data).status_code in (200, 302)


@FUZZ
@given(value=ANY_TEXT, key=st.sampled_from(["q", "label", "owner", "stage", "sort", "task_type", "data_type", "page"]))
@example(key="q", value="\x00")
def test_any_catalog_query_answers_200(model: Any, version: Any, owner: Any, key: str, value: str) -> None:
    client = client_for(owner)
    assert client.get("/models/", {key: value}).status_code == 200
    assert client.get(f"/models/{model.slug}/", {key: value}).status_code == 200


@FUZZ
@given(name=ANY_TEXT, version_name=ANY_TEXT)
@example(name="\x00", version_name="\x00")
@example(name="<b>", version_name="..")
def test_any_url_segment_answers_404_not_500(model: Any, owner: Any, name: str, version_name: str) -> None:
    client = client_for(owner)
    response = client.get(f"/models/{model.slug}/versions/{quote(version_name, safe='')}/")
    assert response.status_code in (200, 404)
    data = {"kind": "user", "name": name, "role": "viewer"}
    assert client.post(f"/models/{model.slug}/collaborators/add/", data).status_code in (200, 302)
