"""The people of one emulated site: Atlassian accounts that are also Slack users.

One :class:`Directory` is shared by the Confluence, Jira and Slack backends of an
emulator, so that a person mentioned on a page, assigned in Jira and notified in Slack is
the same :class:`User` everywhere. Each user carries every identifier any flavour needs
(Cloud account id, Server username and user key, Slack id); the HTTP layer shows the ones
the emulated flavour would.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable

import attrs

__all__ = ["Directory", "User"]


@attrs.frozen
class User:
    """A person known to the emulated site and workspace.

    ``account_id`` identifies them on Atlassian Cloud; ``username`` and ``user_key`` on
    Server/Data Center (``ri:username``, ``ri:userkey``); ``slack_id`` in Slack.
    """

    account_id: str
    username: str
    user_key: str
    display_name: str
    email: str | None
    slack_id: str

    def matches_search(self, query: str) -> bool:
        """Whether a user search for ``query`` finds this user.

        Like Jira: a case-insensitive prefix of the display name, of any word in it, of
        the email address or of the username, or exactly the account id.
        """
        q = query.strip().lower()
        if not q:
            return False
        if q == self.account_id.lower():
            return True
        candidates = [self.display_name.lower(), self.username.lower()]
        candidates += [w for w in re.split(r"[\s.,;:_-]+", self.display_name.lower()) if w]
        if self.email:
            candidates.append(self.email.lower())
        return any(c.startswith(q) for c in candidates)


class Directory:
    """Every user of one emulator, indexed by each identifier. Thread-safe."""

    def __init__(self, lock: threading.RLock) -> None:
        self._lock = lock
        self._users: list[User] = []
        self._counter = 0

    def clear(self) -> None:
        """Forget every user."""
        with self._lock:
            self._users.clear()
            self._counter = 0

    def add(
        self,
        *,
        display_name: str,
        account_id: str | None = None,
        username: str | None = None,
        user_key: str | None = None,
        email: str | None = None,
        slack_id: str | None = None,
    ) -> User:
        """Add a user, generating the identifiers not given; raise ValueError on clashes."""
        if not display_name or not display_name.strip():
            raise ValueError("a user needs a non-empty display_name")
        with self._lock:
            self._counter += 1
            n = self._counter
            if username is None:
                base = email.split("@", 1)[0] if email else display_name
                stem = re.sub(r"[^a-z0-9._-]+", ".", base.lower()).strip(".") or "user"
                username = stem
                # A generated username never clashes: number it like Jira does on import.
                taken = {u.username.lower() for u in self._users}
                suffix = 1
                while username in taken:
                    suffix += 1
                    username = f"{stem}{suffix}"
            user = User(
                account_id=account_id or f"5b10ac8d82e05b22cc7d{n:04x}",
                username=username,
                user_key=user_key or f"JIRAUSER{10100 + n}",
                display_name=display_name,
                email=email,
                slack_id=slack_id or f"U0{n:07d}",
            )
            for other in self._users:
                for field in ("account_id", "username", "user_key", "slack_id"):
                    if getattr(other, field) == getattr(user, field):
                        raise ValueError(
                            f"a user with {field} {getattr(user, field)!r} already exists "
                            f"({other.display_name})"
                        )
                if email and other.email and other.email.lower() == email.lower():
                    raise ValueError(
                        f"a user with email {email!r} already exists ({other.display_name})"
                    )
            self._users.append(user)
            return user

    def all(self) -> list[User]:
        """Every user, in the order they were added."""
        with self._lock:
            return list(self._users)

    def by_account_id(self, account_id: str) -> User | None:
        """The user with this Cloud account id."""
        return self._find(lambda u: u.account_id == account_id)

    def by_username(self, username: str) -> User | None:
        """The user with this Server username (case-insensitive, as Jira compares them)."""
        lowered = username.lower()
        return self._find(lambda u: u.username.lower() == lowered)

    def by_user_key(self, user_key: str) -> User | None:
        """The user with this Server user key."""
        return self._find(lambda u: u.user_key == user_key)

    def by_email(self, email: str) -> User | None:
        """The user with this email address (case-insensitive)."""
        lowered = email.strip().lower()
        return self._find(lambda u: (u.email or "").lower() == lowered)

    def by_slack_id(self, slack_id: str) -> User | None:
        """The user with this Slack id."""
        return self._find(lambda u: u.slack_id == slack_id)

    def search(self, query: str) -> list[User]:
        """Users that a Jira user search for ``query`` finds."""
        with self._lock:
            return [u for u in self._users if u.matches_search(query)]

    def _find(self, predicate: Callable[[User], bool]) -> User | None:
        with self._lock:
            for user in self._users:
                if predicate(user):
                    return user
        return None
