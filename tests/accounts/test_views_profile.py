"""The Profile page: choosing the time zone times are shown in."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from accounts.middleware import SESSION_KEY
from accounts.models import Profile
from accounts.selectors import time_zone_of
from tests.helpers import client_for, select

PROFILE_URL = "/accounts/profile/"


def test_the_url_is_named() -> None:
    assert reverse("accounts:profile") == PROFILE_URL


def test_anonymous_is_sent_to_sign_in(db: None) -> None:
    response = client_for(None).get(PROFILE_URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_nav_links_the_username_to_the_profile(owner: Any) -> None:
    links = select(client_for(owner).get("/").text, "a", href=PROFILE_URL)
    assert [link.text for link in links] == ["Signed in as owner"]


def test_utc_is_chosen_until_the_user_picks_a_zone(owner: Any) -> None:
    response = client_for(owner).get(PROFILE_URL)
    assert response.status_code == 200
    assert '<option value="UTC" selected>UTC</option>' in response.text
    assert '<option value="America/New_York">America/New York</option>' in response.text
    assert time_zone_of(user=owner) == "UTC"


def test_choosing_a_zone_saves_it_and_keeps_it_in_the_session(owner: Any) -> None:
    client = client_for(owner)
    response = client.post(PROFILE_URL, {"time_zone": "Asia/Kolkata"})
    assert response.status_code == 302
    assert response["Location"] == PROFILE_URL
    assert Profile.objects.get(user=owner).time_zone == "Asia/Kolkata"
    assert client.session[SESSION_KEY] == "Asia/Kolkata"
    page = client.get(PROFILE_URL).text
    assert "Saved: times are shown in Asia/Kolkata." in page
    assert '<option value="Asia/Kolkata" selected>' in page
    assert " IST</time>" in page


@pytest.mark.parametrize("bad", ["Mars/Olympus", "", "../../etc/passwd", "utc"])
def test_a_zone_not_in_the_database_is_a_form_error_and_saves_nothing(owner: Any, bad: str) -> None:
    client = client_for(owner)
    response = client.post(PROFILE_URL, {"time_zone": bad})
    assert response.status_code == 200
    assert 'class="errorlist' in response.text
    assert not Profile.objects.filter(user=owner).exists()
    assert client.session[SESSION_KEY] == "UTC"


def test_wrong_method_is_405(owner: Any) -> None:
    assert client_for(owner).put(PROFILE_URL).status_code == 405


def test_the_zone_is_read_at_sign_in_and_kept_in_the_session(owner: Any) -> None:
    Profile.objects.create(user=owner, time_zone="Asia/Kolkata")
    assert client_for(owner).session[SESSION_KEY] == "Asia/Kolkata"


def test_a_session_without_the_zone_reads_it_once(owner: Any) -> None:
    Profile.objects.create(user=owner, time_zone="Asia/Kolkata")
    client = client_for(owner)
    session = client.session
    del session[SESSION_KEY]
    session.save()
    assert " IST</time>" in client.get(PROFILE_URL).text
    assert client.session[SESSION_KEY] == "Asia/Kolkata"


def test_a_request_that_shows_no_time_reads_nothing_for_the_zone(owner: Any, django_assert_num_queries: Any) -> None:
    Profile.objects.create(user=owner, time_zone="Asia/Kolkata")
    client = client_for(owner)
    with django_assert_num_queries(0):  # neither the session nor the user: the zone is looked up when a time is shown
        assert client.get("/healthz/").status_code == 200
    assert " IST</time>" in client.get(PROFILE_URL).text
