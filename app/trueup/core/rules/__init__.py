"""The billing rules as a file and in the store: the TOML text parsed and checked (each problem
naming its line), one value checked the same way whether typed or read, the rules in force and
the rows a person reads. The rules' meaning (the value types) is billing/rules.py.
"""
