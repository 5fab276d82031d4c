"""How this install is set up: the config file and environment, where files live, who the operator
is, secrets (OS keyring or encrypted file), the API clients built from all of those and a test
of each connection, and `trueup doctor`. Imports sources, store and values.
"""
