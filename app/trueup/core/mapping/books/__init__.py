"""Halo clients and items matched to the books' customers and items (QuickBooks Online, Xero):
candidates, what is read from the store, and the engine the `trueup qbo|xero` commands call.
"""
