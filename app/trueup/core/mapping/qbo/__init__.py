"""Halo clients and items matched to QuickBooks Online customers and items: candidates, what is
read from the store, and the engine the `trueup qbo` commands call.
"""
