"""Pure renderers: a small per-service (or per-namespace) context in, Kubernetes objects out.

Objects are plain dicts with API field names. Nothing here imports Pulumi, so the policies, the cost
model and the tests read the exact objects the components register. Values that only exist at deploy
time (an image digest, a secret) are passed in as opaque arguments and placed where they belong.
"""
