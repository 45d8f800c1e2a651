"""The whole system on one machine: an embedded DynamoDB (moto server) and `chalice local`.

`make run` calls `python -m devstack`; the end-to-end tests start the same `Stack`.
"""
