"""Sherweb's payable charges (`trueup import --source sherweb`): an invoice's charges exported
from Sherweb's partner portal as CSV, one file per client. Its columns are a default the config
may rename (columns.py); read and checked whole, then stored as the same records as Pax8's
(files/lines). A file replaces only its own client's charges, so the clients' files of one
invoice are imported one by one.
"""

from __future__ import annotations

from trueup.core.sources.files.lines import LineFormat
from trueup.core.sources.files.sherweb.charges import charge_of, check
from trueup.core.sources.files.sherweb.columns import COLUMNS, WANTED
from trueup.core.values.distributors import SHERWEB

FORMAT = LineFormat(SHERWEB, WANTED, COLUMNS, charge_of, check).file_format()
