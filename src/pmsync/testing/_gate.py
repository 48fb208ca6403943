"""A request gate: lets a test pause requests before the emulator handles them.

``Emulator.set_request_gate(gate)`` installs a callable that the server thread calls
with a :class:`PendingRequest` for every routed, authenticated request, just before it is
handled (before ``drop_after`` and the handler run). The gate may block, for as long as
it likes: only that request waits, every other connection is served meanwhile. Race tests
use it to step two runs request by request, or to run something at the exact moment one
run is about to write.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import attrs

__all__ = ["PendingRequest"]


def _frozen(value: Mapping[str, str]) -> Mapping[str, str]:
    return MappingProxyType(dict(value))


@attrs.frozen
class PendingRequest:
    """A request the emulator is about to handle, as a request gate sees it.

    ``headers`` holds the request's headers except ``Authorization`` (a gate never sees a
    credential); tests tell runs apart by a header of their own, set on each client's
    session. ``mutating`` and ``service`` mean what they mean in
    :class:`~pmsync.testing.RequestRecord`.
    """

    method: str
    path: str
    query: Mapping[str, str] = attrs.field(converter=_frozen, hash=False)
    service: str
    mutating: bool
    headers: Mapping[str, str] = attrs.field(converter=_frozen, hash=False, repr=False)
