"""Building the service clients from environment variables.

The one place that knows which variables pmsync reads (:data:`ENVIRONMENT`) and how they
become atlassian-python-api and slack_sdk clients. Never logs or returns a secret in a
message.
"""

from __future__ import annotations

import functools
import os
import ssl
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import attrs
import requests

from pmsync._gateways.cloud import cloud_urls
from pmsync.exceptions import ConfigError

__all__ = ["ENVIRONMENT", "Clients", "clients_from_env", "read_secret"]

#: The environment variables :meth:`pmsync.Syncer.from_env` reads, with what each is for.
ENVIRONMENT: Mapping[str, str] = {
    "PMSYNC_JIRA_URL": "Jira base URL, e.g. https://example.atlassian.net",
    "PMSYNC_CONFLUENCE_URL": "Confluence base URL (default on Cloud: the Jira URL + /wiki)",
    "PMSYNC_DEPLOYMENT": "cloud or server (default: cloud for *.atlassian.net, else server;"
    " set cloud for a Cloud site behind a custom domain or proxy, and for the emulator)",
    "PMSYNC_EMAIL": "Cloud: the Atlassian account email that owns the API token",
    "PMSYNC_API_TOKEN": "Cloud: the API token",
    "PMSYNC_API_TOKEN_FILE": "Cloud: a file holding the API token, instead of PMSYNC_API_TOKEN",
    "PMSYNC_JIRA_PAT": "Server/DC: a Jira personal access token",
    "PMSYNC_JIRA_PAT_FILE": "Server/DC: a file holding the Jira personal access token",
    "PMSYNC_CONFLUENCE_PAT": "Server/DC: a Confluence personal access token",
    "PMSYNC_CONFLUENCE_PAT_FILE": "Server/DC: a file holding the Confluence access token",
    "PMSYNC_SLACK_TOKEN": "Slack bot token (xoxb-...), optional: needed by remind and notices",
    "PMSYNC_SLACK_TOKEN_FILE": "A file holding the Slack bot token",
    "PMSYNC_SLACK_URL": "Slack Web API base URL (default https://slack.com/api/; set it for"
    " a proxy or the emulator)",
    "PMSYNC_SLACK_SIGNING_SECRET": "pmsync serve: the Slack app's signing secret (turns on"
    " the buttons)",
    "PMSYNC_SLACK_SIGNING_SECRET_FILE": "pmsync serve: a file holding the Slack signing secret",
    "PMSYNC_WEBHOOK_SECRET": "pmsync serve: the secret Jira and Confluence webhooks are signed"
    " with",
    "PMSYNC_WEBHOOK_SECRET_FILE": "pmsync serve: a file holding the webhook secret",
    "PMSYNC_TOKEN_KIND": "Cloud: classic (default) or scoped (a scoped API token or a service"
    " account: calls go through api.atlassian.com/ex/{jira,confluence}/{cloudId})",
    "PMSYNC_CLOUD_ID": "Cloud, scoped tokens: the site's cloud id (default: read from the"
    " site's /_edge/tenant_info)",
    "PMSYNC_GATEWAY_URL": "Cloud, scoped tokens: the API gateway (default"
    " https://api.atlassian.com; set it for a proxy or the emulator)",
    "PMSYNC_CONFIG": "The configuration file (the same as --config)",
    "REQUESTS_CA_BUNDLE": "A CA bundle (PEM) to verify TLS certificates with, for networks"
    " that inspect TLS (the ca_bundle setting takes precedence)",
    "HTTPS_PROXY": "A proxy for every request to Jira, Confluence and Slack (read by the HTTP"
    " clients, as are HTTP_PROXY and NO_PROXY)",
    "NO_COLOR": "Any value turns colours off on a terminal",
    "XDG_CACHE_HOME": "Where the lock file goes when the configuration's directory is not"
    " writable (default ~/.cache)",
}

#: Environment variables that hold URLs, checked before any request is made.
_URL_VARIABLES = (
    "PMSYNC_JIRA_URL",
    "PMSYNC_CONFLUENCE_URL",
    "PMSYNC_SLACK_URL",
    "PMSYNC_GATEWAY_URL",
)


@attrs.frozen
class Clients:
    """The real clients built from the environment (``slack`` is None without a token)."""

    confluence: Any
    jira: Any
    slack: Any = None


def read_secret(environ: Mapping[str, str], name: str) -> str | None:
    """A secret from ``NAME`` or from the file named by ``NAME_FILE``."""
    value = environ.get(name)
    if value:
        return value.strip()
    path = environ.get(f"{name}_FILE")
    if not path:
        return None
    try:
        return Path(path).read_text(encoding="utf-8-sig").strip() or None
    except OSError as exc:
        raise ConfigError(
            f"cannot read the file named by {name}_FILE: {exc.strerror}", key=f"{name}_FILE"
        ) from None
    except UnicodeDecodeError:
        raise ConfigError(
            f"the file named by {name}_FILE is not UTF-8 text; write the secret into it as "
            "UTF-8 (or ASCII)",
            key=f"{name}_FILE",
        ) from None


def _check_url(name: str, url: str) -> None:
    """Refuse a URL without http:// or https:// or without a host, naming the variable."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"{url!r} is not an http:// or https:// URL with a host name, such as "
            "https://example.atlassian.net",
            key=name,
        )


def clients_from_env(
    environ: Mapping[str, str] | None = None, *, ca_bundle: str | None = None
) -> Clients:
    """Build the clients from environment variables (see :data:`ENVIRONMENT`).

    Cloud: ``PMSYNC_JIRA_URL``, ``PMSYNC_EMAIL`` and ``PMSYNC_API_TOKEN`` (Basic auth;
    one token serves Jira and Confluence). Server/Data Center: ``PMSYNC_JIRA_URL``,
    ``PMSYNC_CONFLUENCE_URL`` and personal access tokens ``PMSYNC_JIRA_PAT`` and
    ``PMSYNC_CONFLUENCE_PAT`` (Bearer). Every secret may instead come from a file named
    by ``NAME_FILE``. TLS certificates are always verified: against ``ca_bundle`` (a PEM
    file) when given, else ``REQUESTS_CA_BUNDLE``, else the system's trusted authorities.
    """
    from atlassian import Confluence, Jira  # noqa: PLC0415  (heavy import)

    env = os.environ if environ is None else environ
    for name in _URL_VARIABLES:
        if env.get(name):
            _check_url(name, env[name])
    bundle = ca_bundle or env.get("REQUESTS_CA_BUNDLE") or None
    if bundle and not Path(bundle).is_file():
        raise ConfigError(
            f"the CA bundle {bundle} is not a readable file",
            key="ca_bundle" if ca_bundle else "REQUESTS_CA_BUNDLE",
        )
    jira_url = (env.get("PMSYNC_JIRA_URL") or "").rstrip("/")
    if not jira_url:
        raise ConfigError("set PMSYNC_JIRA_URL to the Jira base URL", key="PMSYNC_JIRA_URL")
    host = urlsplit(jira_url).hostname or ""
    deployment = (env.get("PMSYNC_DEPLOYMENT") or "").lower() or (
        "cloud"
        if host.endswith((".atlassian.net", ".jira.com")) or host == "api.atlassian.com"
        else "server"
    )
    if deployment not in ("cloud", "server"):
        raise ConfigError(f"{deployment!r} is not cloud or server", key="PMSYNC_DEPLOYMENT")
    cloud = deployment == "cloud"
    confluence_url = (env.get("PMSYNC_CONFLUENCE_URL") or "").rstrip("/") or (
        f"{jira_url}/wiki" if cloud else ""
    )
    if not confluence_url:
        raise ConfigError(
            f"set PMSYNC_CONFLUENCE_URL: {host} is not *.atlassian.net, so pmsync takes it for "
            "Server/Data Center, which runs Confluence at its own URL. If it is Atlassian "
            "Cloud under another name (a custom domain, a proxy, the emulator), set "
            "PMSYNC_DEPLOYMENT=cloud instead",
            key="PMSYNC_CONFLUENCE_URL",
        )
    if cloud:
        email, token = env.get("PMSYNC_EMAIL"), read_secret(env, "PMSYNC_API_TOKEN")
        if not email or not token:
            raise ConfigError(
                "Cloud needs PMSYNC_EMAIL and PMSYNC_API_TOKEN (an API token from "
                "id.atlassian.com), or PMSYNC_API_TOKEN_FILE",
                key="PMSYNC_EMAIL" if not email else "PMSYNC_API_TOKEN",
            )
        # Scoped tokens call api.atlassian.com/ex/{jira,confluence}/{cloudId} instead.
        get = functools.partial(requests.get, verify=bundle or True)
        jira_url, confluence_url = cloud_urls(env, jira_url, confluence_url, get=get)
        # cloud=False keeps the client's plain request methods that pmsync sends its REST
        # calls through (v2 for pages, v1 for CQL); it would otherwise pick its v2-only
        # class for *.atlassian.net hosts.
        confluence = Confluence(  # type: ignore[no-untyped-call]
            url=confluence_url, username=email, password=token, cloud=False, verify_ssl=True
        )
        jira = Jira(url=jira_url, username=email, password=token, cloud=True, verify_ssl=True)
    else:
        jira_pat = read_secret(env, "PMSYNC_JIRA_PAT")
        confluence_pat = read_secret(env, "PMSYNC_CONFLUENCE_PAT")
        if not jira_pat or not confluence_pat:
            raise ConfigError(
                "Server/Data Center needs PMSYNC_JIRA_PAT and PMSYNC_CONFLUENCE_PAT "
                "(personal access tokens), or their _FILE variants",
                key="PMSYNC_JIRA_PAT" if not jira_pat else "PMSYNC_CONFLUENCE_PAT",
            )
        confluence = Confluence(  # type: ignore[no-untyped-call]
            url=confluence_url, token=confluence_pat, verify_ssl=True
        )
        jira = Jira(url=jira_url, token=jira_pat, verify_ssl=True)
    if ca_bundle:  # without it, requests reads REQUESTS_CA_BUNDLE itself
        # The clients pass verify_ssl to requests' verify=, which takes a bundle's path.
        confluence.verify_ssl = jira.verify_ssl = ca_bundle
    slack = None
    slack_token = read_secret(env, "PMSYNC_SLACK_TOKEN")
    if slack_token:
        from slack_sdk import WebClient  # noqa: PLC0415

        kwargs: dict[str, Any] = {"token": slack_token}
        if env.get("PMSYNC_SLACK_URL"):
            kwargs["base_url"] = env["PMSYNC_SLACK_URL"]
        if bundle:  # slack_sdk's urllib does not read REQUESTS_CA_BUNDLE
            try:
                kwargs["ssl"] = ssl.create_default_context(cafile=bundle)
            except ssl.SSLError as exc:
                raise ConfigError(
                    f"the CA bundle {bundle} holds no PEM certificate ({exc.reason})",
                    key="ca_bundle" if ca_bundle else "REQUESTS_CA_BUNDLE",
                ) from None
        slack = WebClient(**kwargs)
    return Clients(confluence, jira, slack)
