"""leanstack sample worker: consumes JSON jobs from a Redis list."""

__version__ = "0.1.0"
