"""The Meta webhook (Facebook Page feed, Instagram comments and mentions): Meta's verification handshake, then
signed events, each checked against the app secret before anything is read or stored."""

from __future__ import annotations

import json
import logging

from django.conf import settings
from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from schoolgate.connectors.facebook import webhooks
from schoolgate.inbox.actions.pushed import take_pushed_events

logger = logging.getLogger(__name__)

META_NETWORKS = ("facebook", "instagram")


def _app_secrets() -> list[str]:
    apps = getattr(settings, "NETWORK_APPS", {})
    return [apps[n]["client_secret"] for n in META_NETWORKS if apps.get(n, {}).get("client_secret")]


def _text(message: str, status: int = 200) -> HttpResponse:
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")


# Signed by Meta, not by a browser: no session, so no CSRF token (the signature is the check).
@csrf_exempt
@require_http_methods(["GET", "POST"])
def meta_webhook(request):
    """GET: answer Meta's hub.challenge when the verify token matches. POST: verify X-Hub-Signature-256 over the
    raw body (403, logged without the body, nothing stored), parse (400 on a malformed payload), store.
    Events for accounts not connected here are answered 200, so Meta does not send them again and again."""
    if request.method == "GET":
        token = settings.META_WEBHOOK_VERIFY_TOKEN
        challenge = webhooks.verification_challenge(request.GET, token) if token else None
        if challenge is None:
            logger.warning("Refused a Meta webhook verification: the verify token did not match")
            return HttpResponseForbidden("The verify token does not match.", content_type="text/plain")
        return _text(challenge)
    cap = settings.META_WEBHOOK_MAX_BYTES
    if int(request.META.get("CONTENT_LENGTH") or 0) > cap:
        logger.warning("Refused a Meta webhook of %s bytes (the cap is %s)", request.META.get("CONTENT_LENGTH"), cap)
        return _text("The payload is too big.", 413)
    body = request.body
    if len(body) > cap:
        return _text("The payload is too big.", 413)
    signature = request.headers.get("X-Hub-Signature-256", "")
    secrets = _app_secrets()
    if (
        not signature
        or not secrets
        or not any(webhooks.verify_signature(body, signature, secret) for secret in secrets)
    ):
        logger.warning("Refused a Meta webhook: %s", "no signature" if not signature else "the signature did not match")
        return HttpResponseForbidden("The signature does not match.", content_type="text/plain")
    try:
        events = webhooks.parse_events(json.loads(body))
    except (ValueError, UnicodeDecodeError):
        logger.warning("Refused a signed Meta webhook that Schoolgate could not read (%s bytes)", len(body))
        return HttpResponseBadRequest(
            "The payload is not a webhook event Schoolgate can read.", content_type="text/plain"
        )
    counts = take_pushed_events(events)
    logger.info("Meta webhook: %(stored)s new item(s), %(gone)s removed", counts)
    return _text("OK")
