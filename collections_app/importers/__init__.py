"""Imports from the core lending system: accounts (with borrowers and contacts) and payments.

Each import reads every row, validates all of it, and only then writes, in one transaction: a bad row
stops the import naming its CSV line, and nothing from the file is written. Re-running a file changes
nothing (rows are matched by their natural keys and only differing values are written), and nothing is
ever deleted. Every created or changed object gets one audit event through `audit_record_many`.

`csv_rows` reads and checks the cells, `upsert` and `trail` are the shared writing steps, and `accounts`
and `payments` are the two imports.
"""
