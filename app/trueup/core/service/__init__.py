"""The surface the fronts call: one service object per stage on one store (`Mappings`,
`SeatDiffs`, `RuleBook`, `Batches`, `Posting`, `Syncing`, `Imports`, `Logs`, `QuickBooks`,
`Ledger`), so a CLI command and its key in the workbench run the same code. `Workbench`
composes them on one clock for the TUI; `stores` opens the file; `types` is the one place the
TUI imports the types and value formatters it shows. The fronts import nothing else of the core
but `errors`, `values` and (the CLI, for its own set-up commands) `settings`: import-linter
contracts hold them to that.
"""
