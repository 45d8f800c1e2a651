"""A group's `search_params`, read as the `vastai` CLI reads Vast's offer query: the filters
Vast's offer search takes, or a ValueError naming what cannot be read."""
from __future__ import annotations

import pytest
from vastai.api.query import parse_query

from chalicelib.core.fleet.offer_query import parse


@pytest.mark.parametrize(("query", "filters"), [
    ("gpu_ram>=23 num_gpus=1 verified=true gpu_name=RTX_4090",
     {"gpu_ram": {"gte": 23}, "num_gpus": {"eq": 1}, "verified": {"eq": True}, "gpu_name": {"eq": "RTX 4090"}}),
    ("gpu_ram >= 24 verified=True", {"gpu_ram": {"gte": 24}, "verified": {"eq": True}}),
    ("gpu_name in [RTX_4090,RTX_3090]", {"gpu_name": {"in": ["RTX 4090", "RTX 3090"]}}),
    ("gpu_name not in [A100_SXM4] dph_total<=2.5", {"gpu_name": {"notin": ["A100 SXM4"]}, "dph_total": {"lte": 2.5}}),
    ("gpu_name nin [H100]", {"gpu_name": {"notin": ["H100"]}}),
    ('gpu_name="RTX 4090"', {"gpu_name": {"eq": "RTX 4090"}}),
    ("reliability gt 0.98 cuda_vers gte 12.1", {"reliability": {"gt": 0.98}, "cuda_vers": {"gte": 12.1}}),
    ("num_gpus>=1 num_gpus<=4", {"num_gpus": {"gte": 1, "lte": 4}}),
    ("geolocation=None", {"geolocation": {"eq": None}}),
    ("verified=true gpu_name=any", {"verified": {"eq": True}}),
    ("", {}),
    ('{"dph_total": {"lte": 2.5}, "cuda_vers": 12.1}', {"dph_total": {"lte": 2.5}, "cuda_vers": {"eq": 12.1}}),
])
def test_vasts_query_language_and_json_read_as_filters(query, filters):
    assert parse(query) == filters


@pytest.mark.parametrize("query", [
    "gpu_ram>=23 num_gpus=1 verified=true gpu_name=RTX_4090", "gpu_ram >= 24 verified=True",
    "gpu_name in [RTX_4090,RTX_3090]", "gpu_name not in [A100_SXM4] dph_total<=2.5", 'gpu_name="RTX 4090"',
])
def test_the_filters_are_what_the_vastai_cli_reads(query):
    """(The CLI leaves numbers as text; Vast's search reads either.)"""
    assert numbers(parse(query)) == numbers(parse_query(query, {}))


def numbers(filters: dict) -> dict:
    def read(value):
        try:
            return float(value)
        except (TypeError, ValueError):
            return value
    return {field: {op: read(value) for op, value in ops.items()} for field, ops in filters.items()}


@pytest.mark.parametrize(("query", "names"), [
    ("gpu_ram", "gpu_ram"),
    ("gpu_ram>=", "gpu_ram>="),
    ("gpu_ram >= 24 verified", "verified"),
    ("gpu_name in []", "list of values"),
    ("gpu_ram>=any", "wildcard"),
    ('{"gpu_ram": {"gte": 24}', "JSON object"),
    ("[1, 2]", "[1,"),
    ("{1: 2}", "JSON object"),
])
def test_what_cannot_be_read_is_a_value_error_naming_it(query, names):
    with pytest.raises(ValueError, match=names.replace("[", r"\[")):
        parse(query)
