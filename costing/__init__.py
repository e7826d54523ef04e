"""Cost of Kubernetes objects: price sheets (data) and a pure model (manifests -> usage -> money)."""
