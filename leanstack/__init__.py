"""leanstack: lean, hardened, right-sized container platforms on Kubernetes, priced before apply.

Layers, bottom to top; an import only ever points down (tests/unit/test_layers.py checks it):
kube -> config -> render -> costing -> images -> components -> package -> policies -> rightsize -> scan -> cli.
"""
