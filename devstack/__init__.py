"""The whole system on one machine: an embedded DynamoDB (moto server) and the API in Chalice's local server.

`make run` calls `python -m devstack`; the end-to-end tests start the same `Stack`.
"""
