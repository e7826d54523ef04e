"""Pulumi components built on the pure renderers. Each takes narrow typed args of its own, so a
program of yours can use them without a leanstack stack file; `Platform` maps a stack file onto them."""
