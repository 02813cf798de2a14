"""Declarative reconciler that exports customer segments to Klaviyo lists."""

__version__ = "0.1.0"
