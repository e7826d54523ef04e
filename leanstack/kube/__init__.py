"""Kubernetes helpers with no knowledge of leanstack's config: quantities, one way of reading a
manifest, the label and annotation keys, and the names derived from a service's name."""
