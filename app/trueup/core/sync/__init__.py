"""`trueup sync`: fetch from the sources, turn each API object into a record, stage and apply
them in one transaction per source, one sync at a time (the lock); what the last syncs left
(status), and the local copy of QuickBooks' catalogue.
"""
