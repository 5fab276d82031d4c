"""Plain value types and readers every stage shares: service months, tolerant parsing of wire
values, ages, money and quantities as text. Imports nothing else of trueup.
"""
