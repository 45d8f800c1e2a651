"""The dashboard's files: served from the package at /dashboard/, `/` redirecting there, the
redirects keeping API Gateway's stage prefix, nothing but the page's own files answered."""
from __future__ import annotations

import json
import re

import pytest

import app
from chalicelib.surfaces.dashboard.routes import files


def headers(response) -> dict[str, str]:
    return {name.lower(): value for name, value in response.headers.items()}


def test_the_root_redirects_to_the_dashboard(client):
    response = client.http.get("/")
    assert (response.status_code, headers(response)["location"]) == (302, "/dashboard/")


def test_the_dashboard_without_its_slash_redirects_to_it(client):
    response = client.http.get("/dashboard")
    assert (response.status_code, headers(response)["location"]) == (302, "/dashboard/")


def test_the_page_is_html_under_a_strict_content_security_policy(client):
    response = client.http.get("/dashboard/")
    assert response.status_code == 200 and headers(response)["content-type"] == "text/html; charset=utf-8"
    policy = headers(response)["content-security-policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy and "script-src" not in policy
    assert headers(response)["x-content-type-options"] == "nosniff"
    page = response.body.decode()
    assert '<label for="api-key">API key</label>' in page and 'id="api-key"' in page


def test_every_file_the_page_names_is_served_with_its_type(client):
    page = client.http.get("/dashboard/").body.decode()
    named = re.findall(r'(?:src|href)="([^"#:]+)"', page)
    assert set(named) == {"uPlot.min.css", "dashboard.css", "uPlot.iife.min.js", "dashboard.js"}
    for name in named:
        response = client.http.get(f"/dashboard/{name}")
        kind = "text/css" if name.endswith(".css") else "text/javascript"
        assert (response.status_code, headers(response)["content-type"]) == (200, f"{kind}; charset=utf-8")


def test_the_vendored_chart_library_ships_with_its_licence(client):
    assert "uPlot.LICENSE.txt" in files() and "MIT License" in files()["uPlot.LICENSE.txt"][1]
    assert files()["uPlot.iife.min.js"][1].startswith("/*! https://github.com/leeoniya/uPlot (v1.6.32) */")


@pytest.mark.parametrize("name", ["nope.js", "..%2Froutes.py", "routes.py", "__init__.py", "%2e%2e"])
def test_a_file_that_is_not_the_pages_is_a_404(client, name):
    response = client.http.get(f"/dashboard/{name}")
    assert response.status_code == 404 and set(json.loads(response.body)) == {"message"}


def test_a_write_to_the_dashboard_is_refused(client):
    assert client.http.post("/dashboard/", body=b"{}", headers={"Content-Type": "application/json"}).status_code == 405


@pytest.mark.parametrize("path, location", [("/api/", "/api/dashboard/"), ("/api/dashboard", "/api/dashboard/")])
def test_behind_api_gateway_the_redirects_keep_the_stage(path, location):
    """API Gateway's event: `path` the route, `requestContext.path` what was asked, stage prefix included."""
    route = "/" if path == "/api/" else "/dashboard"
    event = {"resource": route, "path": route, "httpMethod": "GET", "headers": {}, "multiValueHeaders": {},
             "queryStringParameters": None, "multiValueQueryStringParameters": None, "pathParameters": None,
             "stageVariables": None, "body": None, "isBase64Encoded": False,
             "requestContext": {"resourcePath": route, "httpMethod": "GET", "path": path, "stage": "api",
                                "identity": {"sourceIp": "10.0.0.1"}}}
    reply = app.app(event, None)
    assert (reply["statusCode"], reply["headers"]["Location"]) == (302, location)
