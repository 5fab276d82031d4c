"""`trueup sync`: fetch from the sources, turn each API object into a record, stage and apply
them in one transaction per source, one sync at a time (the lock); what the last syncs left
(status), and the local copy of QuickBooks' catalogue. `trueup import` writes a distributor's
file the same way: one transaction, under the same lock (file_import.py).
"""
