"""Sundial: Kubernetes `Schedule` resources kept in step with Temporal schedules."""

__version__ = "0.1.0"
