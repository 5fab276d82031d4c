"""The surface the fronts call. `workbench.Workbench` is the service on one store: mappings, the
seat diff, rules, the batch, approvals, posting, sync, logs and connections. `types` is the one
place the TUI imports the types and value formatters it shows; the TUI imports nothing else of
the core but `errors` and `values` (an import-linter contract holds it to that). The CLI still
calls the stages' modules directly; moving it onto this surface is the open part of issue 15.
"""
