"""The billing engine (billing-rules.md), pure: a client's billing facts in, its invoice out. The
quantity timeline, proration, prices, terms, usage, cost, anomalies and the words that explain
each line. The rules as values live here (rules.py) because the engine reads them. Imports only
values: never the store, the sources or anything that does I/O.
"""
