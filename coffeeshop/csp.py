"""The Content-Security-Policy header, with the page's own websocket origin in connect-src.

CSP Level 3 lets 'self' match ws:/wss: of the page's host, but older browsers (Safari before
15.4) do not, and a bare `ws:` or `wss:` would allow any host: so each response names its own.
"""

from __future__ import annotations

from csp.middleware import CSPMiddleware, PolicyParts
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponseBase


class SiteCSPMiddleware(CSPMiddleware):
    def get_policy_parts(
        self, request: HttpRequest, response: HttpResponseBase, report_only: bool = False
    ) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        try:
            host = request.get_host()
        except DisallowedHost:
            # The response already refuses this host (400): it gets the base policy only.
            return parts
        scheme = "wss" if request.is_secure() else "ws"
        own_socket = f"{scheme}://{host}"
        base = dict(parts.update or {})
        base["connect-src"] = [*base.get("connect-src", ()), own_socket]
        parts.update = base
        return parts
