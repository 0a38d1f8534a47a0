"""The two emails families get: the confirmation link and the weekly digest (with one-click unsubscribe)."""

from __future__ import annotations

import email.policy
from email.headerregistry import HeaderRegistry, UnstructuredHeader
from email.utils import formataddr, parseaddr

from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.formats import date_format

from schoolgate.news.models import DigestIssue, DigestSubscriber
from schoolgate.notifications.actions import one_line
from schoolgate.posts.models import Post
from schoolgate.schools.models import School


class UnfoldedHeader(UnstructuredHeader):
    """A header written on one line, as given.

    Python folds a header longer than 78 characters, and a long URL has no space to fold at, so it would
    be RFC 2047-encoded ("=?utf-8?q?=3Chttps..."), which no mail app reads as a List-Unsubscribe URL.
    RFC 5322 allows lines up to 998 characters; our URLs are ASCII and far shorter.
    """

    def fold(self, *, policy) -> str:
        return f"{self.name}: {self}{policy.linesep}"


_LIST_HEADERS = HeaderRegistry()
_LIST_HEADERS.map_to_type("list-unsubscribe", UnfoldedHeader)


class DigestEmail(EmailMultiAlternatives):
    def message(self, *, policy=email.policy.default):
        # Our own registry, not the shared default's: mapping a type there would change every email sent.
        return super().message(policy=policy.clone(header_factory=_LIST_HEADERS))


def absolute(path: str) -> str:
    # Emails are read outside any request, so links are built from the configured public address.
    return f"{settings.SITE_URL}{path}"


def news_url(school: School) -> str:
    return absolute(reverse("news:index", args=[school.slug]))


def item_url(post: Post) -> str:
    return absolute(reverse("news:item", args=[post.school.slug, post.pk]))


def confirm_url(subscriber: DigestSubscriber) -> str:
    return absolute(reverse("news:confirm", args=[subscriber.school.slug, subscriber.token]))


def unsubscribe_url(subscriber: DigestSubscriber) -> str:
    return absolute(reverse("news:unsubscribe", args=[subscriber.school.slug, subscriber.token]))


def _from_address(school: School) -> str:
    # Families recognise the school, not the software: its name goes on our own sending address.
    return formataddr((one_line(f"{school.name} news"), parseaddr(settings.DEFAULT_FROM_EMAIL)[1]))


def confirmation_message(subscriber: DigestSubscriber) -> EmailMessage:
    school = subscriber.school
    body = render_to_string(
        "news/email/confirm.txt",
        {"school": school, "confirm_url": confirm_url(subscriber), "news_url": news_url(school)},
    )
    return EmailMessage(
        subject=one_line(f"Confirm your weekly news email from {school.name}"),
        body=body,
        from_email=_from_address(school),
        to=[subscriber.email],
    )


def digest_message(issue: DigestIssue, subscriber: DigestSubscriber, posts: list[Post]) -> EmailMultiAlternatives:
    """Plain text plus an HTML alternative; RFC 8058 headers let mail apps offer a one-click unsubscribe."""
    school = issue.school
    week = date_format(issue.week_start, "j F Y")
    context = {
        "school": school,
        "week": week,
        "items": [{"post": post, "url": item_url(post)} for post in posts],
        "news_url": news_url(school),
        "unsubscribe_url": unsubscribe_url(subscriber),
    }
    message = DigestEmail(
        subject=one_line(f"{school.name} news: week of {week}"),
        body=render_to_string("news/email/digest.txt", context),
        from_email=_from_address(school),
        to=[subscriber.email],
        headers={
            "List-Unsubscribe": f"<{context['unsubscribe_url']}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Auto-Submitted": "auto-generated",
        },
    )
    message.attach_alternative(render_to_string("news/email/digest.html", context), "text/html")
    return message
