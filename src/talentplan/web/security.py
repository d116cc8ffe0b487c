"""Who may use the what-if page: loopback by default, a token for anything else.

:func:`check_serve_options` refuses a host that is not a loopback address unless a
token is set (the command line turns the :class:`~talentplan.errors.OptionError` into
exit code 2). With a token, :class:`TokenMiddleware` lets through only the requests that
carry it: as the query parameter ``token`` (the first visit, from the link the command
prints), then as the cookie it sets, or as the header ``X-Talentplan-Token``; every
other request, for any path, gets 403.

:class:`SameOriginMiddleware` guards the page from other web sites open in the same
browser: a request whose ``Host`` is not one the server answers to (DNS rebinding) and a
POST whose ``Origin`` is another site's (a form on a foreign page) get 403.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Awaitable, Callable, Collection
from urllib.parse import quote, urlsplit

from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp

from talentplan.errors import OptionError

__all__ = [
    "COOKIE",
    "HEADER",
    "LOOPBACK_NAMES",
    "SameOriginMiddleware",
    "TokenMiddleware",
    "check_serve_options",
    "is_loopback",
    "page_link",
    "served_hosts",
]

COOKIE = "talentplan_token"
"""Cookie that carries the token after the first visit (HttpOnly, SameSite=Strict)."""

HEADER = "X-Talentplan-Token"
"""Header that may carry the token instead (scripts, tests)."""

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")
"""Host names a page bound to a loopback address answers to."""


def is_loopback(host: str) -> bool:
    """Return whether ``host`` names this machine only (``localhost``, 127.0.0.0/8, ::1).

    Examples
    --------
    >>> is_loopback("127.0.0.1"), is_loopback("localhost"), is_loopback("0.0.0.0")
    (True, True, False)
    """
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return False


def served_hosts(host: str) -> tuple[str, ...]:
    """Return the host names a page bound to ``host`` answers to (empty: any).

    On a loopback address: :data:`LOOPBACK_NAMES` and the address itself (so that
    ``--host 127.0.0.2`` is reachable at the address it binds). Elsewhere the token
    guards the page, and any name is answered.

    Examples
    --------
    >>> served_hosts("127.0.0.2")
    ('127.0.0.1', 'localhost', '::1', '127.0.0.2')
    >>> served_hosts("0.0.0.0")
    ()
    """
    if not is_loopback(host):
        return ()
    name = host.strip().strip("[]").lower()
    if name not in LOOPBACK_NAMES:
        try:
            name = str(ipaddress.ip_address(name))  # ::0:1 and the like, as browsers write them
        except ValueError:
            pass
    return tuple(dict.fromkeys((*LOOPBACK_NAMES, name)))


def page_link(host: str, port: int, token: str | None) -> str:
    """Return the address ``talentplan serve`` prints, the token quoted for a URL.

    Examples
    --------
    >>> page_link("::1", 8000, "a+b&c")
    'http://[::1]:8000/?token=a%2Bb%26c'
    """
    shown = f"[{host.strip('[]')}]" if ":" in host else host
    return f"http://{shown}:{port}/" + (f"?token={quote(token, safe='')}" if token else "")


def check_serve_options(host: str, token: str | None) -> None:
    """Refuse a host other machines can reach when no token guards it.

    Raises
    ------
    OptionError
        ``host`` is not a loopback address and ``token`` is empty.
    """
    if token is not None and not token.strip():
        raise OptionError(
            "token '': expected a non-empty token",
            option="token",
            value="''",
            expected="a non-empty token",
        )
    if not is_loopback(host) and token is None:
        raise OptionError(
            f"host {host}: other machines can reach it; give --token T to guard the page, "
            "or bind a loopback address (127.0.0.1)",
            option="host",
            value=host,
            expected="a loopback address (127.0.0.1, ::1, localhost) unless --token is given",
        )


class TokenMiddleware(BaseHTTPMiddleware):
    """Answer 403 to every request without the token; set the cookie on the first visit.

    A middleware rather than a route dependency, so that static files and unknown paths
    are guarded too.
    """

    def __init__(self, app: ASGIApp, token: str) -> None:
        super().__init__(app)
        self.token = token

    def _matches(self, given: str | None) -> bool:
        return given is not None and hmac.compare_digest(given.encode(), self.token.encode())

    async def dispatch(
        self, request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        """Check the token of ``request``; pass it on or refuse it."""
        in_query = request.query_params.get("token")
        carried = (
            self._matches(in_query)
            or self._matches(request.cookies.get(COOKIE))
            or self._matches(request.headers.get(HEADER))
        )
        if not carried:
            return PlainTextResponse(
                "403 forbidden: this page needs its token (open the link "
                "`talentplan serve` printed)",
                status_code=403,
            )
        response = await call_next(request)
        if self._matches(in_query):
            response.set_cookie(COOKIE, self.token, httponly=True, samesite="strict")
        return response


def _host_name(netloc: str) -> str:
    """Return the host of ``host[:port]`` or ``[v6]:port``, lower case, without the port."""
    return (urlsplit(f"//{netloc}").hostname or "").lower()


class SameOriginMiddleware(BaseHTTPMiddleware):
    """Answer 403 to a foreign ``Host`` and to a POST from another origin.

    Parameters
    ----------
    app
        The application.
    hosts
        Host names the server answers to (without ports); empty: any.
    """

    def __init__(self, app: ASGIApp, hosts: Collection[str] = ()) -> None:
        super().__init__(app)
        self.hosts = {h.lower().strip("[]") for h in hosts}

    async def dispatch(
        self, request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        """Check the ``Host`` and, for a POST, the ``Origin`` of ``request``."""
        host = request.headers.get("host", "")
        if self.hosts and _host_name(host) not in self.hosts:
            return PlainTextResponse(f"403 forbidden: unknown host {host!r}", status_code=403)
        origin = request.headers.get("origin")
        if request.method == "POST" and origin and urlsplit(origin).netloc != host:
            return PlainTextResponse(
                "403 forbidden: a form from another site cannot use this page", status_code=403
            )
        return await call_next(request)
