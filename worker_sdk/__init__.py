"""What a GPU worker process imports to talk to the control plane (not deployed to Lambda).

`notify` is wire-compatible with vast-pyworker's module of that name (seed 001):
`loaded`, `update`, `error`, plus `finished` for completed requests. `signing` checks
that a request really was routed by the control plane.
"""
