"""Reports for the people around the billing person: the month's workbook for the accountant.
Reads the ledger, the month's batch and the journal; writes files; changes nothing in the store."""
