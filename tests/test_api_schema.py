"""Schemathesis against /openapi.json: generated requests, valid and not, never get a 5xx.

In process over the ASGI app and the session's assistant; bounded and derandomized, so the run
is the same every time and takes seconds.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from qa.settings import Settings
from qa.surfaces.server import create_app

KEY = "s3cret"
EXAMPLES = 30

# The schema depends only on the settings, not on an index: read it from an app never started.
_static = Settings(corpus=Path("-"), index=Path("-"), model=None, cors_origins=(), api_key=None)
open_schema = schemathesis.openapi.from_dict(create_app(_static).openapi())
keyed_schema = schemathesis.openapi.from_dict(
    create_app(dataclasses.replace(_static, api_key=KEY)).openapi()
)
bounded = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture(scope="module")
def open_app(settings, assistant):
    return create_app(settings, assistant)


@pytest.fixture(scope="module")
def keyed_app(settings, assistant):
    return create_app(dataclasses.replace(settings, api_key=KEY), assistant)


@open_schema.parametrize()
@bounded
def test_the_api_conforms_to_its_schema(case, open_app):
    case.call_and_validate(app=open_app)


@keyed_schema.parametrize()
@bounded
def test_the_keyed_api_refuses_without_the_key(case, keyed_app):
    response = case.call_and_validate(app=keyed_app)
    if case.path in ("/search", "/ask"):
        assert response.status_code in ((401, 413) if case.method == "POST" else (405,))
