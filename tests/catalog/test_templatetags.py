"""The catalog's template helpers that build links."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from catalog.models import RegisteredModel, Stage
from catalog.templatetags.catalog_tags import versions_in_stage_url


@pytest.mark.parametrize("name", ["Churn Predictor", 'Fraud & "Risk" \\ #1 + é', "a?b=c;d"])
def test_the_link_to_a_models_versions_in_a_stage_reads_back_the_name_whole(name: str) -> None:
    url = urlsplit(versions_in_stage_url(RegisteredModel(name=name), Stage.STAGING))
    assert url.path == "/versions/"
    escaped = name.replace("\\", "\\\\").replace('"', '\\"')
    assert parse_qs(url.query) == {"find": [f'model == "{escaped}"'], "stage": ["staging"]}
