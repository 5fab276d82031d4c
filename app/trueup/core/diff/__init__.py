"""The seat diff (billing-rules §9): the seats Pax8 charges against the seats Halo bills, per client
and product, and the one reading of subscriptions and Halo lines the batch bills from too.
"""
