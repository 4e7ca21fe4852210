"""Tracking's use cases, one module per group; other contexts call them through here."""
