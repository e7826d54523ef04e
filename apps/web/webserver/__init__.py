"""leanstack sample static web server (stdlib only)."""

__version__ = "0.1.0"
