"""The month ledger: the state of billing per (month, client), whatever batch proposed it. For
each client of a month: the current draft (the month's batch for the store as it is), the
operator's word on it, its approval, and every document posted or voided at a destination
(read from the posting journal); and the stored batches with what became of them. Imports
posting, batch and below.
"""
