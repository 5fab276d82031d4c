"""The Ingram Micro Cloud Marketplace rated data export (`trueup import --source ingram`): the
monthly Rated Data Export (full report) from the reseller control panel, as CSV. Its columns
are a default the config may rename (columns.py); read and checked whole, then stored as the
same records as Pax8's (files/lines).
"""

from __future__ import annotations

from trueup.core.sources.files.ingram.charges import charge_of
from trueup.core.sources.files.ingram.columns import COLUMNS, WANTED
from trueup.core.sources.files.lines import LineFormat
from trueup.core.values.distributors import INGRAM

FORMAT = LineFormat(INGRAM, WANTED, COLUMNS, charge_of).file_format()
