"""pmsync: close the loop on incident postmortems.

Reads the action items of Confluence postmortem pages, makes Jira match them, writes the
issue keys and live status back into the pages, and tells owners in Slack.

The public API is what this module exports; everything in ``pmsync._*`` modules is
private and may change without notice.
"""

from __future__ import annotations

from pmsync._diff import Snapshot, diff

# What Syncer.from_env reads; a constant, so kept out of __all__ (star-imports).
from pmsync._env import ENVIRONMENT as ENVIRONMENT
from pmsync._gateways._transport import RetryPolicy
from pmsync._lease import SkippedPage
from pmsync._lint import Finding, lint
from pmsync._model import (
    ActionItem,
    ItemTable,
    JiraIssue,
    ParseWarning,
    Person,
    Postmortem,
    Status,
)
from pmsync._plan import (
    Change,
    CommentOrphan,
    Conflict,
    CreateIssue,
    MoveIssue,
    Noop,
    Notify,
    Operation,
    PagePlan,
    Plan,
    SyncResult,
    UpdateIssue,
    WritePage,
)
from pmsync._ports import IssueGateway, PageGateway
from pmsync._record import SyncRecord
from pmsync._remind import Reminder, ReminderResult
from pmsync._report import Report
from pmsync._review import Review
from pmsync._storage.parse import parse_page
from pmsync._sync import Syncer
from pmsync.config import Config, ReminderPolicy, ReviewSettings
from pmsync.exceptions import (
    ApplyError,
    AuthError,
    ConfigError,
    ConflictError,
    LockError,
    NotFoundError,
    ParseError,
    PmsyncError,
    QuotaExhaustedError,
    RateLimitError,
    ServiceError,
)

__all__ = [
    "ActionItem",
    "ApplyError",
    "AuthError",
    "Change",
    "CommentOrphan",
    "Config",
    "ConfigError",
    "Conflict",
    "ConflictError",
    "CreateIssue",
    "Finding",
    "IssueGateway",
    "ItemTable",
    "JiraIssue",
    "LockError",
    "MoveIssue",
    "Noop",
    "NotFoundError",
    "Notify",
    "Operation",
    "PageGateway",
    "PagePlan",
    "ParseError",
    "ParseWarning",
    "Person",
    "Plan",
    "PmsyncError",
    "Postmortem",
    "QuotaExhaustedError",
    "RateLimitError",
    "Reminder",
    "ReminderPolicy",
    "ReminderResult",
    "Report",
    "RetryPolicy",
    "Review",
    "ReviewSettings",
    "ServiceError",
    "SkippedPage",
    "Snapshot",
    "Status",
    "SyncRecord",
    "SyncResult",
    "Syncer",
    "UpdateIssue",
    "WritePage",
    "diff",
    "lint",
    "parse_page",
]

__version__ = "0.1.0"
