"""Where Atlassian Cloud's REST APIs live for a given kind of credential.

Classic API tokens call the site itself (``https://SITE.atlassian.net`` and ``.../wiki``).
Scoped API tokens and service accounts must call the API gateway instead:
``https://api.atlassian.com/ex/jira/{cloudId}`` and ``.../ex/confluence/{cloudId}/wiki``,
where the cloud id is the site's (``PMSYNC_CLOUD_ID``, or read from the site's
``/_edge/tenant_info``). This module only works out the URLs; it never sees a token.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import requests

from pmsync.exceptions import ConfigError, ServiceError

__all__ = ["GATEWAY", "cloud_id_of", "cloud_urls"]

#: Atlassian's API gateway (``PMSYNC_GATEWAY_URL`` points elsewhere, for tests and proxies).
GATEWAY = "https://api.atlassian.com"
_GATEWAY_PATH = re.compile(r"^(?P<root>.*)/ex/(?:jira|confluence)/(?P<id>[^/]+)")


def cloud_id_of(site_url: str, *, get: Callable[..., Any] = requests.get) -> str:
    """The cloud id of a Cloud site, from its ``/_edge/tenant_info`` (no credentials)."""
    url = f"{site_url.rstrip('/')}/_edge/tenant_info"
    try:
        response = get(url, timeout=30)
        response.raise_for_status()
        cloud_id = response.json().get("cloudId")
    except (requests.RequestException, ValueError, AttributeError) as exc:
        raise ServiceError(
            f"could not read the cloud id from {url} ({type(exc).__name__}); "
            "set PMSYNC_CLOUD_ID (Atlassian admin: Settings > Products, or "
            "https://SITE.atlassian.net/_edge/tenant_info in a browser)",
            service="jira",
            url=url,
        ) from None
    if not isinstance(cloud_id, str) or not cloud_id:
        raise ServiceError(f"{url} named no cloudId; set PMSYNC_CLOUD_ID", service="jira", url=url)
    return cloud_id


def cloud_urls(
    env: Mapping[str, str],
    jira_url: str,
    confluence_url: str,
    *,
    get: Callable[..., Any] = requests.get,
) -> tuple[str, str]:
    """The Jira and Confluence base URLs to call on Cloud, given the environment.

    With ``PMSYNC_TOKEN_KIND=scoped`` (or a ``PMSYNC_JIRA_URL`` that already is a gateway
    URL, ``.../ex/jira/{cloudId}``) both go through the gateway; the cloud id is
    ``PMSYNC_CLOUD_ID`` or the site's. Otherwise the site URLs are returned unchanged.
    """
    kind = (env.get("PMSYNC_TOKEN_KIND") or "classic").strip().lower()
    if kind not in ("classic", "scoped"):
        raise ConfigError(f"{kind!r} is not classic or scoped", key="PMSYNC_TOKEN_KIND")
    given = _GATEWAY_PATH.match(jira_url)
    if given:
        root, cloud_id = given.group("root"), given.group("id")
    elif kind == "scoped":
        root = (env.get("PMSYNC_GATEWAY_URL") or GATEWAY).rstrip("/")
        cloud_id = (env.get("PMSYNC_CLOUD_ID") or "").strip() or cloud_id_of(jira_url, get=get)
        if not re.fullmatch(r"[A-Za-z0-9-]+", cloud_id):
            raise ConfigError(f"{cloud_id!r} is not a cloud id", key="PMSYNC_CLOUD_ID")
    else:
        return jira_url, confluence_url
    if urlsplit(confluence_url).path.startswith("/ex/confluence/") and confluence_url:
        gateway_confluence = confluence_url
    else:
        gateway_confluence = f"{root}/ex/confluence/{cloud_id}/wiki"
    return f"{root}/ex/jira/{cloud_id}", gateway_confluence
