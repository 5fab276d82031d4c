"""The local SQLite file: opening it (pragmas, permissions, schema version and migrations), its
tables, the JSON kept in its text columns, backups and the log. Imports only values.
"""
