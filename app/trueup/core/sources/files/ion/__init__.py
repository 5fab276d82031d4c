"""The TD SYNNEX StreamOne Ion billing report (`trueup import --source ion`): one cloud
vendor's report of a month, downloaded as CSV from Ion's Reports > Billing. Its columns are a
default the config may rename (columns.py); read and checked whole, then stored as the same
records as Pax8's (files/lines).
"""

from __future__ import annotations

from trueup.core.sources.files.ion.charges import charge_of, check
from trueup.core.sources.files.ion.columns import COLUMNS, WANTED
from trueup.core.sources.files.lines import LineFormat
from trueup.core.values.distributors import ION

FORMAT = LineFormat(ION, WANTED, COLUMNS, charge_of, check).file_format()
