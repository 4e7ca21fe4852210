"""The back-office of platform integrations."""
