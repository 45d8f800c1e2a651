"""Write the merge template for a stage: every DynamoDB table, from the PynamoDB models.

    python -m infra.template --stage dev --out build/resources-dev.json

Table names come from the stage's environment in .chalice/config.json, key schemas and
indexes from the models, so the tables deployed are the tables the code uses. The
function /route/ wakes gets the name the stage's SCALE_FUNCTION gives it. Every
table is on-demand, has point-in-time recovery, and expires items on `expires_at`
where the model has one. The schedule and the IAM policy (.chalice/policy-<stage>.json,
`autogen_policy` off) come from Chalice itself.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from pynamodb.attributes import TTLAttribute

from chalicelib.core.store import MODELS

ROOT = Path(__file__).resolve().parents[1]


def stage_variables(stage: str) -> dict[str, str]:
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    return config["stages"][stage]["environment_variables"]


def stage_tables(stage: str) -> dict[str, str]:
    variables = stage_variables(stage)
    return {name[: -len("_TABLE")]: value for name, value in variables.items() if name.endswith("_TABLE")}


def logical_id(kind: str) -> str:
    return "".join(part.title() for part in kind.split("_")) + "Table"


def table(models: list, name: str) -> dict:
    """A table as the models sharing it (one key schema) define it: expiring if any has a TTL."""
    model = models[0]
    schema = model._get_schema()
    definitions = {d["AttributeName"]: d["AttributeType"] for d in schema["attribute_definitions"]}
    properties: dict = {
        "TableName": name,
        "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": [{"AttributeName": k["AttributeName"], "KeyType": k["KeyType"]} for k in schema["key_schema"]],
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        "SSESpecification": {"SSEEnabled": True},
    }
    indexes = []
    for index in schema["global_secondary_indexes"]:
        definitions.update({d["AttributeName"]: d["AttributeType"] for d in index["attribute_definitions"]})
        indexes.append({"IndexName": index["index_name"], "KeySchema": index["key_schema"],
                        "Projection": index["projection"]})
    if indexes:
        properties["GlobalSecondaryIndexes"] = indexes
    properties["AttributeDefinitions"] = [{"AttributeName": k, "AttributeType": kind}
                                          for k, kind in sorted(definitions.items())]
    ttl = [a.attr_name for m in models for a in m.get_attributes().values() if isinstance(a, TTLAttribute)]
    if ttl:
        properties["TimeToLiveSpecification"] = {"AttributeName": ttl[0], "Enabled": True}
    return {"Type": "AWS::DynamoDB::Table", "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain",
            "Properties": properties}


def merge_template(stage: str) -> dict:
    names = stage_tables(stage)
    resources: dict = {}
    by_kind: dict[str, list] = {}
    for model in MODELS:  # models sharing a table (META, SERVING, BENCH) give it once
        by_kind.setdefault(model.Meta.table_kind, []).append(model)
    for kind, models in by_kind.items():
        resources[logical_id(kind)] = table(models, names[kind])
    # Launched workers report to this API: the scaler hands them its URL as REPORT_ADDR.
    public_url = {"Fn::Sub": "https://${RestAPI}.execute-api.${AWS::Region}.${AWS::URLSuffix}/api"}
    resources["ScaleFleet"] = {"Properties": {"Environment": {"Variables": {"PUBLIC_URL": public_url}}}}
    # /route/ wakes this one by the name the stage gives it (SCALE_FUNCTION), so it is named, not generated.
    resources["ScaleEndpoint"] = {"Properties": {"FunctionName": stage_variables(stage)["SCALE_FUNCTION"],
                                                 "Environment": {"Variables": {"PUBLIC_URL": public_url}}}}
    resources.update(gateway_responses())
    return {"Resources": resources}


def gateway_responses() -> dict:
    """API Gateway's own refusals in the API's error shape. Its defaults echo the request's
    `Authorization` header (a key) for an unknown path or method: these name neither."""
    def body(code: str, msg: str) -> str:
        return json.dumps({"success": False, "error": code, "msg": msg})

    answers = {
        "MISSING_AUTHENTICATION_TOKEN": ("404", body("not_found", "no such call: $context.httpMethod $context.path")),
        "INVALID_SIGNATURE": ("404", body("not_found", "no such call: $context.httpMethod $context.path")),
        "DEFAULT_4XX": (None, body("$context.error.responseType", "refused by the API gateway")),
        "DEFAULT_5XX": (None, body("$context.error.responseType", "the API gateway failed; try again")),
    }
    resources = {}
    for kind, (status, template) in answers.items():
        properties = {"RestApiId": {"Ref": "RestAPI"}, "ResponseType": kind,
                      "ResponseTemplates": {"application/json": template}}
        if status:
            properties["StatusCode"] = status
        resources["Gateway" + "".join(p.title() for p in kind.split("_"))] = {
            "Type": "AWS::ApiGateway::GatewayResponse", "Properties": properties}
    return resources


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.template")
    parser.add_argument("--stage", default="dev")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(merge_template(args.stage), indent=2) + "\n")
    print(f"wrote {args.out} for stage '{args.stage}'")
    return 0


if __name__ == "__main__":
    sys.exit(main())
