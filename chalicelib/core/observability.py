"""Structured JSON logs and metrics (Powertools), shared by every surface."""
from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics

logger = Logger(service="gpu-control-plane")
metrics = Metrics(namespace="GpuControlPlane", service="gpu-control-plane")
