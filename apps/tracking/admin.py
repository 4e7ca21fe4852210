"""Tracking in the back-office (each area's pages registered here)."""
