"""Back-office of escrow and the ledger: escrows with their history, payments and journal
entries; the ledger (journal entries, accounts with their balances, and the lines of an
organization's accounts); the payment providers' webhook events and the exchange rates.

Nothing here writes a model: money moves only through apps.escrow.services. Platform
staff adjust an organization's available balance (`ledger_adjust`: a reason required,
audited); a service's refusal is shown on the form and nothing is written. A disputed
escrow links to its case, whose mediation page (apps.disputes) decides what the frozen
money does. The ledger is append-only (the database refuses
UPDATE and DELETE), so no page offers add, change or delete.

Who sees what:
- platform staff see every organization (the back-office's all-tenants scope);
- an organization admin sees the escrows of which their organization is a party, with
  their history and payments, and of the ledger only their organization's own account
  lines and balances (`Posting.organization_id`). Row-level security would also show
  them the other party's lines of a shared entry; the pages leave those out;
- webhook events and exchange rates are the platform's: staff only.
"""

from apps.escrow.admin import escrows, ledger, platform  # noqa: F401 - each module registers its pages
