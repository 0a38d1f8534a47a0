"""The daily digest: new mentions since the last one, for the people who chose to watch (counts and links only)."""

from __future__ import annotations

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from schoolgate.listening.actions.access import may_triage
from schoolgate.listening.models import ListeningSettings, Mention, MentionStatus
from schoolgate.notifications.actions import notify


def schools_with_watchers() -> list[int]:
    return list(ListeningSettings.objects.filter(watchers__isnull=False).values_list("school_id", flat=True).distinct())


def send_digest(school_id: int) -> int:
    """Tell the watchers how many new mentions came since the last digest; returns how many people were told.

    Safe to run twice: the digest's mark moves forward in the same transaction as the notices, so a second run
    finds nothing new. Disclosures are not counted by their words: they went to the DSL already.
    """
    with transaction.atomic():
        settings = ListeningSettings.objects.select_for_update().select_related("school").get(school_id=school_id)
        school, now = settings.school, timezone.now()
        new = Mention.objects.filter(school=school, found_at__lte=now)
        if settings.digest_sent_up_to:
            new = new.filter(found_at__gt=settings.digest_sent_up_to)
        waiting = new.filter(status=MentionStatus.NEW).count()
        total = new.count()
        settings.digest_sent_up_to = now
        settings.save(update_fields=["digest_sent_up_to"])
        if not total:
            return 0
        watchers = [user for user in settings.watchers.filter(is_active=True) if may_triage(user, school)]
        notify(
            watchers,
            school=school,
            subject=f"{total} new post{'s' if total != 1 else ''} about {school.name}",
            body=(
                f"Schoolgate's listening found {total} new public post{'s' if total != 1 else ''} about the school "
                f"since the last digest; {waiting} still wait{'s' if waiting == 1 else ''} for someone to look."
            ),
            url=reverse("listening:mentions", args=[school.slug]),
        )
        return len(watchers)
