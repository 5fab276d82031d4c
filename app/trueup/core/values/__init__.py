"""Plain value types and readers every stage shares: service months, tolerant parsing of wire
values, ages. Imports nothing else of trueup.
"""
