"""Example workers built on worker_sdk."""
