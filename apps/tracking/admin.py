"""Tracking in the back-office (each area's pages registered here)."""

from apps.tracking import admin_devices  # noqa: F401 - registers the devices' pages
