"""The outside world: the shared async HTTP machinery (timeouts, retries honouring Retry-After, the
rate limiter, token refresh) and the Pax8, HaloPSA and QuickBooks Online clients built on it.
They return the APIs' rows as sent; turning rows into records is sync's job. `files/` reads the
distributors' billing files into records, checked whole. Imports nothing else of the core but
its errors and values.
"""
