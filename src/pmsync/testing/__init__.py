"""A stateful Confluence, Jira and Slack emulator for tests, demos and exploration.

:class:`Emulator` serves one Atlassian site (Confluence and Jira, Cloud or Server/Data
Center flavour) and one Slack workspace over real HTTP on ``127.0.0.1``, so that the real
client libraries (atlassian-python-api, slack_sdk, jira) run against it exactly as they
would in production. It keeps state, enforces the services' rules (versions, workflows,
field validation), logs every request and lets tests script faults.

See docs/testing.md for a guide.
"""

from __future__ import annotations

from pmsync.testing._app import RequestRecord
from pmsync.testing._emulator import Emulator
from pmsync.testing._faults import Faults
from pmsync.testing._gate import PendingRequest
from pmsync.testing._outbound import Delivery
from pmsync.testing._users import User

__all__ = ["Delivery", "Emulator", "Faults", "PendingRequest", "RequestRecord", "User"]
