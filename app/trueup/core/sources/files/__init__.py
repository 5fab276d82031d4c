"""Distributors' billing files (`trueup import`): each format a small declarative column table
(`columns.Column`), read and checked whole by the shared reader (`table`), then turned into the
same records the store holds for Pax8 by the format's own package (`partner_center`; `ion`,
`ingram` and `sherweb` read their rows into the charges `lines` turns into records), the
subscriptions' history written by `history` for all.

A user may rename any column of a table in the config (`[import.<source>]`, our field name =
the file's column name: settings/config.py), for a download whose headers differ from the
documented ones. Nothing here touches the store: sync/file_import.py writes what this returns.
"""
