"""The deploy package: `chalice package --merge-template` with infra's tables, then cfn-lint."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from devstack.stack import ROOT

BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("package")
    env = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1"}
    subprocess.run([sys.executable, "-m", "infra.template", "--stage", "dev", "--out", str(out / "resources.json")],
                   cwd=ROOT, env=env, check=True)
    subprocess.run([str(BIN / "chalice"), "package", "--stage", "dev", "--merge-template",
                    str(out / "resources.json"), str(out / "sam")], cwd=ROOT, env=env, check=True, timeout=600)
    return out / "sam" / "sam.json"


def test_cfn_lint_finds_no_error(template):
    lint = subprocess.run([str(BIN / "cfn-lint"), str(template)], capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout + lint.stderr


def test_every_table_is_on_demand_recoverable_and_expiring_where_the_model_says(template):
    resources = json.loads(template.read_text())["Resources"]
    tables = {k: v["Properties"] for k, v in resources.items() if v["Type"] == "AWS::DynamoDB::Table"}
    assert len(tables) == 9
    for properties in tables.values():
        assert properties["BillingMode"] == "PAY_PER_REQUEST"
        assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    expiring = {k for k, v in tables.items() if v.get("TimeToLiveSpecification", {}).get("Enabled")}
    assert expiring == {"WorkersTable", "StatsTable", "EventsTable", "ServingTable", "BenchTable"}
    assert tables["WorkersTable"]["GlobalSecondaryIndexes"][0]["IndexName"] == "by-endpoint"


def test_the_scaler_runs_every_minute_with_the_stage_policy_and_knows_the_api_url(template):
    resources = json.loads(template.read_text())["Resources"]
    scaler = resources["ScaleFleet"]["Properties"]
    assert scaler["Events"]["ScaleFleetEvent"]["Properties"]["Schedule"] == "rate(1 minute)"
    assert "RestAPI" in json.dumps(scaler["Environment"]["Variables"]["PUBLIC_URL"])
    policy = json.loads((ROOT / ".chalice" / "policy-dev.json").read_text())
    role = resources["ScaleFleetRole"]["Properties"]["Policies"][0]["PolicyDocument"]
    assert role == policy
    assert all("*" != resource for statement in role["Statement"] for resource in statement["Resource"]
               if isinstance(statement["Resource"], list))


def test_the_api_can_wake_the_one_endpoint_scaler_by_the_name_the_stage_gives_it(template):
    resources = json.loads(template.read_text())["Resources"]
    name = resources["ScaleEndpoint"]["Properties"]["FunctionName"]
    assert resources["APIHandler"]["Properties"]["Environment"]["Variables"]["SCALE_FUNCTION"] == name
    assert "RestAPI" in json.dumps(resources["ScaleEndpoint"]["Properties"]["Environment"]["Variables"]["PUBLIC_URL"])
    api_role = resources["ApiHandlerRole"]["Properties"]["Policies"][0]["PolicyDocument"]
    wake = next(s for s in api_role["Statement"] if s["Action"] == ["lambda:InvokeFunction"])
    assert wake["Resource"] == [f"arn:aws:lambda:*:*:function:{name}"]


def test_every_path_is_answered_and_the_gateways_own_refusals_echo_no_header(template):
    resources = json.loads(template.read_text())["Resources"]
    paths = resources["RestAPI"]["Properties"]["DefinitionBody"]["paths"]
    assert "/{proxy+}" in paths  # whatever no other resource matches reaches the app's JSON 404
    responses = {v["Properties"]["ResponseType"]: v["Properties"] for v in resources.values()
                 if v["Type"] == "AWS::ApiGateway::GatewayResponse"}
    assert {"MISSING_AUTHENTICATION_TOKEN", "INVALID_SIGNATURE", "DEFAULT_4XX", "DEFAULT_5XX"} <= set(responses)
    assert responses["MISSING_AUTHENTICATION_TOKEN"]["StatusCode"] == "404"
    for properties in responses.values():
        text = properties["ResponseTemplates"]["application/json"]
        assert "messageString" not in text and "$context.error.message" not in text and "header" not in text


def test_the_dashboard_ships_in_the_package_and_is_routed(template):
    with zipfile.ZipFile(template.parent / "deployment.zip") as package:
        names = set(package.namelist())
    static = "chalicelib/surfaces/dashboard/static/"
    assert {static + n for n in ("index.html", "dashboard.js", "dashboard.css", "uPlot.iife.min.js",
                                 "uPlot.min.css", "uPlot.LICENSE.txt")} <= names
    paths = json.loads(template.read_text())["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]["paths"]
    assert {"/", "/dashboard", "/dashboard/{name}"} <= set(paths)
