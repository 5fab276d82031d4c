"""What the screens show: the one place the TUI imports the core's types, constants and value
formatters from (the `X as X` form re-exports each). A screen that needs another type adds it
here, so the screens depend on this module and the Workbench, never on a stage's module.
"""

from __future__ import annotations

from trueup.core.batch.approval import ApprovalResult as ApprovalResult
from trueup.core.batch.approval import ApprovalState as ApprovalState
from trueup.core.batch.approval import Skipped as Skipped
from trueup.core.batch.body import SEVERITIES as SEVERITIES
from trueup.core.batch.body import AnomalyView as AnomalyView
from trueup.core.batch.body import InvoiceView as InvoiceView
from trueup.core.batch.body import LineView as LineView
from trueup.core.batch.price_options import PriceOption as PriceOption
from trueup.core.batch.reading import BatchOverview as BatchOverview
from trueup.core.batch.reading import InvoiceRow as InvoiceRow
from trueup.core.batch.review import StandingCode as StandingCode
from trueup.core.batch.review_state import BatchApprovals as BatchApprovals
from trueup.core.billing.facts import CostItem as CostItem
from trueup.core.billing.timeline import Snapshot as Snapshot
from trueup.core.billing.timeline import TimelineEntry as TimelineEntry
from trueup.core.billing.timeline import day_text as day_text
from trueup.core.billing.timeline import period_text as period_text
from trueup.core.diff.seats import STATUSES as STATUSES
from trueup.core.diff.seats import DiffDetail as DiffDetail
from trueup.core.diff.seats import DiffRow as DiffRow
from trueup.core.diff.seats import DiffSummary as DiffSummary
from trueup.core.diff.seats import HaloLine as HaloLine
from trueup.core.ledger.month import Posting as Posting
from trueup.core.mapping.engine import Candidate as Candidate
from trueup.core.mapping.engine import CompanyRow as CompanyRow
from trueup.core.mapping.engine import ItemCandidate as ItemCandidate
from trueup.core.mapping.engine import ProductRow as ProductRow
from trueup.core.mapping.journal import NewestChange as NewestChange
from trueup.core.posting.plan import EntryView as EntryView
from trueup.core.posting.plan import Planned as Planned
from trueup.core.posting.plan import PostingError as PostingError
from trueup.core.posting.plan import PostingPlan as PostingPlan
from trueup.core.posting.run import RunReport as RunReport
from trueup.core.posting.sink import Sink as Sink
from trueup.core.reports.history import Figures as Figures
from trueup.core.reports.history import History as History
from trueup.core.rules.current import CHOICES as CHOICES
from trueup.core.rules.current import DEFAULT_RULES as DEFAULT_RULES
from trueup.core.rules.current import KEYS as KEYS
from trueup.core.rules.current import KINDS as KINDS
from trueup.core.rules.current import PRICE_POLICIES as PRICE_POLICIES
from trueup.core.rules.current import Rules as Rules
from trueup.core.rules.current import RulesError as RulesError
from trueup.core.rules.current import value_from_text as value_from_text
from trueup.core.rules.current import value_text as value_text
from trueup.core.rules.rows import CLIENT as CLIENT
from trueup.core.rules.rows import DEFAULTS as DEFAULTS
from trueup.core.rules.rows import LINE as LINE
from trueup.core.rules.rows import RATE as RATE
from trueup.core.rules.rows import RuleRow as RuleRow
from trueup.core.service.books import BookRow as BookRow
from trueup.core.service.mappings import ItemDraft as ItemDraft
from trueup.core.service.mappings import Override as Override
from trueup.core.service.syncing import SOURCE_NAMES as SOURCE_NAMES
from trueup.core.service.syncing import SourceTile as SourceTile
from trueup.core.settings.connections import SERVICE_NAMES as SERVICE_NAMES
from trueup.core.settings.connections import WORKS as WORKS
from trueup.core.settings.connections import CheckResult as CheckResult
from trueup.core.settings.connections import ConnectionState as ConnectionState
from trueup.core.settings.secrets import SecretLocation as SecretLocation
from trueup.core.store.log_pages import PAGE_SIZES as PAGE_SIZES
from trueup.core.store.log_pages import LogRow as LogRow
from trueup.core.store.log_pages import LogTiles as LogTiles
from trueup.core.store.log_pages import local_zone as local_zone
from trueup.core.store.log_pages import page_count as page_count
from trueup.core.store.log_pages import zone_label as zone_label
from trueup.core.sync.run import SourceResult as SourceResult
from trueup.core.sync.run import SyncBusyError as SyncBusyError
