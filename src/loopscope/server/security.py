# security.py - what keeps the dashboard safe by default: loopback unless a token guards it, the
# token check on every request, the Host check against DNS rebinding, and strict response headers.
"""Rules (checked by check_request before anything is served):

- A token is required for any non-loopback address: token_for() generates one when none is given.
  A token given for a loopback address is required too.
- With a token, every request must carry it: `?token=` (the URL printed at start), the HttpOnly
  SameSite=Strict cookie set on the first request that carried it (so the page's scripts, fetches
  and its EventSource need not), or `Authorization: Bearer TOKEN`. Compared in constant time.
- Without a token (loopback only), the Host header must be a loopback name: a page from another
  site that points its own DNS name at 127.0.0.1 is refused.
- Every response carries a Content-Security-Policy that allows only our own scripts, styles and
  connections: no inline script, no framing, no other origin.
"""

import hmac
import ipaddress
import secrets
from http.cookies import SimpleCookie

COOKIE = "loopscope_token"
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")

CONTENT_SECURITY_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                           "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
HEADERS = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "no-referrer"),
    ("Cross-Origin-Resource-Policy", "same-origin"),
)


def is_loopback(host):
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def token_for(host, token):
    """The token the server requires: the one given, a new one for a non-loopback host, or None."""
    if token:
        if len(token) < 8:
            raise ValueError("--token must be at least 8 characters")
        return token
    return None if is_loopback(host) else secrets.token_urlsafe(18)


def presented_tokens(headers, params):
    found = []
    if "token" in params:
        found.append(params["token"])
    auth = headers.get("Authorization", "")
    if auth.startswith("Bearer "):
        found.append(auth[len("Bearer "):].strip())
    cookie_header = headers.get("Cookie")
    if cookie_header:
        cookies = SimpleCookie()
        try:
            cookies.load(cookie_header)
        except Exception:  # a malformed cookie header is no token
            cookies = {}
        if COOKIE in cookies:
            found.append(cookies[COOKIE].value)
    return found


def host_is_loopback(host_header):
    """Whether a Host header ("127.0.0.1:8765", "[::1]:8765", "localhost") names a loopback address."""
    host = (host_header or "").strip().lower()
    if host.startswith("["):
        host = host[1:].split("]", 1)[0]
    elif host.count(":") == 1:
        host = host.split(":", 1)[0]
    return host in LOOPBACK_NAMES or is_loopback(host)


def check_request(token, headers, params, bind_host, port):
    """None when the request may be served, else (status, reason)."""
    if token:
        for candidate in presented_tokens(headers, params):
            if hmac.compare_digest(candidate.encode(), token.encode()):
                return None
        return 403, "this dashboard needs its token: open the URL loopscope printed (it ends in ?token=...)"
    if not host_is_loopback(headers.get("Host")):
        return 403, "refused: the Host header is not a loopback address (serve with --host and a token instead)"
    return None


def cookie_for(token):
    if not token:
        return None
    return "%s=%s; Path=/; HttpOnly; SameSite=Strict" % (COOKIE, token)
