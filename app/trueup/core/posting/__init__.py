"""Posting approved invoices exactly once: the plan, the documents each destination receives, the
journal (outbox) entries, the run that sends them, and the sinks (Halo invoices, Halo recurring
invoices, QuickBooks), on the configured connections or the sandbox.
"""
