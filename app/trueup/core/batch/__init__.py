"""The dry-run invoice batch (contract.md §2-§3): the facts read from the store, billed by the
engine, stored as a head and one row per invoice (each invoice's text stored once), read back
for the screens; built again by billing only the clients a change touched; the operator's review
(hold, ready, override), carried to a rebuild; approvals and when they lapse.
"""
