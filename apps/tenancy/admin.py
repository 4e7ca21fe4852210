"""Back-office for tenancy. Filled in by the admin work (see docs/admin.md)."""
