"""Opening the store for a front: the one file, checked and migrated as it opens
(store/database.py), and the folder its backups go to; the fronts take them from here."""

from __future__ import annotations

from trueup.core.store.backup import backups_dir as backups_dir
from trueup.core.store.database import Database as Database
from trueup.core.store.database import StoreError as StoreError
from trueup.core.store.database import open_database as open_database
