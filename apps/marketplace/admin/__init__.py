"""Back-office of the marketplace: carriers' offerings with their tariffs, shippers' RFQs
with their offers and history, and the offers with their revisions.

Who does what here:
- an organization admin works on the organization chosen for the session: they see its
  offerings and edit them and their tariffs inline, through the catalogue services
  (`offering_create`, `offering_update`, `tariff_create`, `tariff_update`,
  `tariff_delete`), acting as their membership (`acting_for`); they see its RFQs and the
  offers on them, and the offers it made or received, read-only (RFQs and offers are
  written by their parties through the API, where the lifecycle rules live);
- platform staff see every organization's rows but edit none of them: the back-office
  puts their requests in the all-tenants scope, acting for no organization, and the
  catalogue services act for an organization (the actor's) only. Impersonating the
  carrier would put the carrier's name on a change it did not make, so staff only
  moderate: hide an offering from the catalogue (with a reason) or put it back, and
  close an abusive open RFQ (with a reason). Those services audit each change.

A service's refusal comes back as an error message and changes nothing (the change view
runs in a savepoint, see ServiceErrorsAsMessages); the forms run the services' own checks
first (`offering_check`, `tariff_check`), so that a contradiction is shown beside its
field with what was typed kept.

The pages, one module each: `offerings` (offerings and their tariffs), `rfqs` (RFQs with
their offers and history), `offers` (offers with their revisions and history), `bookings` (bookings of quotes with
their history); `common`
holds what they share (who acts, amounts, staff's moderation actions, read-only inlines).
"""

from apps.marketplace.admin import bookings, offerings, offers, rfqs  # noqa: F401 - each module registers its pages
