"""Keep secrets out of the logs: one filter on every handler, and the same redaction for gunicorn's access log.

Logs are read by people who must not hold the school's keys (hosting staff, log services, support), and
kept long after a token is revoked. So anything shaped like a secret is replaced by "[redacted]" before
a line is written: query and form parameters named like token, secret, code, key, password or signature;
Bearer and Basic credentials; JWTs; long random strings; and the tokens in the URL paths of family consent
links, digest links and signed photo addresses (pupils/urls.py, news/urls.py, media/urls.py); a test reads the
URLconf so that a new page with a token in its path is caught.
"""

from __future__ import annotations

import logging
import re

REDACTED = "[redacted]"

# Names of parameters whose values are secrets: access_token, client_secret, code, api_key, password, sig…
_SECRET_WORDS = "token|secret|code|key|password|passwd|pwd|signature|sig|session|credential"  # noqa: S105 - names, not a secret
_SECRET_NAME = rf"[\w.\-]*(?:{_SECRET_WORDS})[\w.\-]*"
_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    # URL paths that carry a token: /f/<token>/ (family consent), /news/digest/confirm|unsubscribe/<token>/.
    # /m/<token>/ is a short-lived signed address of a photo (schoolgate/media/urls.py).
    (re.compile(r"(/[fm]/)[^/\s?#\"']+"), rf"\1{REDACTED}"),
    (re.compile(r"(/news/digest/(?:confirm|unsubscribe)/)[^/\s?#\"']+"), rf"\1{REDACTED}"),
    # Authorization header values.
    (re.compile(r"(?i)\b(Bearer)(\s+)[A-Za-z0-9._~+/=\-]{4,}"), rf"\1\2{REDACTED}"),
    (re.compile(r"\b(Basic)(\s+)[A-Za-z0-9+/]{8,}={0,2}"), rf"\1\2{REDACTED}"),
    # JSON or Python-repr pairs: "access_token": "…" / 'password': '…'
    (re.compile(rf"(?i)([\"']{_SECRET_NAME}[\"']\s*:\s*)([\"'])(?:(?!\2).)*\2"), rf"\1\2{REDACTED}\2"),
    # name=value in query strings, form bodies and messages (a value ends at &, whitespace or a quote).
    (re.compile(rf"(?i)(?<![\w.\-])({_SECRET_NAME})=([^&\s\"'<>;,]+)"), rf"\1={REDACTED}"),
    # JWTs (access and refresh tokens of Bluesky sessions and others): header.payload.signature.
    (re.compile(r"\beyJ[A-Za-z0-9_\-]{5,}\.[A-Za-z0-9_\-]{5,}\.[A-Za-z0-9_\-]*"), REDACTED),
    # Long random strings (tokens, app passwords with their dashes are caught by shape below): 32+ characters
    # of letters and digits mixed, which ordinary words, ids and paths are not.
    (re.compile(r"(?<![A-Za-z0-9_\-])(?=[A-Za-z0-9_\-]*\d)(?=[A-Za-z0-9_\-]*[A-Za-z])[A-Za-z0-9_\-]{32,}"), REDACTED),
    # Bluesky app passwords: xxxx-xxxx-xxxx-xxxx.
    (re.compile(r"\b[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}\b"), REDACTED),
]


def redact(text: str) -> str:
    """The text with every secret-shaped part replaced by "[redacted]"."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactSecrets(logging.Filter):
    """Installed on every handler (settings.LOGGING): rewrites the record's message, traceback and stack."""

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a badly formatted record is still logged, as logging would
            message = str(record.msg)
        redacted = redact(message)
        if redacted != message or record.args:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


try:  # gunicorn is a production dependency; the development server does not need it.
    from gunicorn.glogging import Logger as _GunicornLogger
except ImportError:  # pragma: no cover
    _GunicornLogger = None


if _GunicornLogger is not None:

    class GunicornLogger(_GunicornLogger):
        """gunicorn's logger with request paths, query strings and referrers redacted in the access log.

        Wired in bin/up with `--logger-class schoolgate.logredact.GunicornLogger`.
        """

        def atoms(self, resp, req, environ, request_time):
            # Request line, path, query, referrer and any header or environ atom a format may name.
            atoms = super().atoms(resp, req, environ, request_time)
            return {name: redact(value) if isinstance(value, str) else value for name, value in atoms.items()}

        def setup(self, cfg):
            super().setup(cfg)
            for log in (self.error_log, self.access_log):
                for handler in log.handlers:
                    handler.addFilter(RedactSecrets())
