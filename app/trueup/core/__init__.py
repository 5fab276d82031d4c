"""The core: everything trueup knows and does, with no screen and no command line.

Packages by stage, in the order the data flows (each may import only those below it; the
import-linter contracts in pyproject.toml hold CI to this):

    service   the one surface the fronts (cli, tui) call
    ledger    the month ledger: every client's month, and the stored batches, whatever batch
    posting   plans, documents, the journal (outbox) and the sinks that send them
    batch     the dry-run invoice batch: built, stored, reviewed, approved
    diff      the seat diff        | rules    the billing rules file and the rules in force
    mapping   Pax8 -> Halo -> QBO  | sync     staging and applying what the sources fetched
    settings  config, paths, secrets, connections, doctor
    store     the SQLite file | sources  HTTP clients, distributor files | billing  the pure engine
    values    months, wire-value parsing, ages, money and quantity text: what every stage shares

Never imports Textual.
"""
