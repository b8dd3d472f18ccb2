"""Home's Production chart and lead times, shown as text as well as drawn."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.urls import reverse
from django.utils import timezone

from approvals import services as workflow
from catalog.models import RegisteredModel, Stage
from tests.factories import VersionFactory
from tests.helpers import client_for, element, frozen, select, set_stage, table_rows


def test_home_shows_the_production_chart_as_text_and_the_lead_times(
    model: RegisteredModel, owner: Any, editor: Any, viewer: Any
) -> None:
    now = timezone.now()
    with frozen(now - timedelta(days=10)):
        version = VersionFactory.create(model=model, name="v1")
    with frozen(now - timedelta(days=3, hours=2)):
        change_request = workflow.request_stage_change(actor=editor, version=version, to_stage=Stage.PRODUCTION)
    with frozen(now - timedelta(days=3)):
        workflow.approve_change_request(actor=owner, change_request=change_request)
    today = timezone.localdate(now)

    response = client_for(viewer).get(reverse("catalog:home"))

    assert response.status_code == 200
    caption = element(response.text, "production-chart-summary")
    first = today - timedelta(days=89)
    assert caption.text == (
        f"1 today, 0 on {first:%b} {first.day}; highest 1 ({today:%b} {today.day}), lowest 0 ({first:%b} {first.day})."
    )
    assert 'aria-labelledby="production-chart-summary"' in response.text
    assert "Versions in Production, last 90 days" in response.text
    [figures] = select(response.text, "table", class_="compact")
    rows = [tuple(cell.text for cell in row.select("td")) for row in table_rows(figures.html)]
    assert len(rows) == 90
    assert rows[0] == (today.isoformat(), "1")
    assert rows[3] == ((today - timedelta(days=3)).isoformat(), "1")
    assert rows[4] == ((today - timedelta(days=4)).isoformat(), "0")
    lead = select(response.text, "dl", class_="lead-times")[0].text
    assert lead == (
        "Request to decision 2 hours median of 1 approval and rejection "
        "Unassigned to Production 7 days median from registration, over 1 version first reaching Production"
    )


def test_home_of_someone_who_sees_nothing_shows_flat_zeroes_and_no_lead_time(
    model: RegisteredModel, owner: Any, outsider: Any
) -> None:
    version = VersionFactory.create(model=model, name="v1")
    set_stage(version, Stage.PRODUCTION)

    response = client_for(outsider).get(reverse("catalog:home"))

    assert element(response.text, "production-chart-summary").text.startswith("0 today, 0 on ")
    lead = select(response.text, "dl", class_="lead-times")[0].text
    assert "Request to decision — no approval or rejection yet" in lead
    assert "Unassigned to Production — no version reached Production yet" in lead
