"""Screening a post's text with its school's roster and policy rules, and what is left of it to decide."""

from __future__ import annotations

from django.utils import timezone

from schoolgate.posts.models import Post, ScreeningResult
from schoolgate.screening.engine import Finding, screen
from schoolgate.screening.school import roster_for_school, rules_for_school


def screen_post(post: Post) -> list[Finding]:
    """Screen the post's text with the school's roster and the rules of its policy in force (AW-PUB-2);
    the naming rule is stricter for a post with photos."""
    return screen(
        post.text,
        roster=roster_for_school(post.school),
        rules=rules_for_school(post.school),
        has_images=post.images.exists(),
    )


def store_screening(post: Post) -> ScreeningResult:
    """Screen the current revision and keep the result, so every page shows what reviewers saw."""
    result, _ = ScreeningResult.objects.update_or_create(
        post=post,
        revision=post.revision,
        defaults={"findings": [f.as_dict() for f in screen_post(post)], "screened_at": timezone.now()},
    )
    return result


def unresolved_blocking_findings(post: Post) -> list[Finding]:
    """Blocking findings on the current revision that no final approver has overridden."""
    if post.overrides.filter(revision=post.revision).exists():
        return []
    return [finding for finding in screen_post(post) if finding.is_blocking]
