"""The dry-run invoice batch (contract.md §2-§3): the facts read from the store, billed by the
engine, stored as canonical JSON with a line digest, read back for the screens; the operator's
review (hold, ready, override), carried to a rebuild; approvals and when they lapse; large
batches built in a helper process.
"""
