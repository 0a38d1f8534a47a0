"""Navigation shared by every page: the person's schools and unread notifications."""

from __future__ import annotations

from schoolgate.notifications.models import Notification
from schoolgate.schools.models import School, Trust, trusts_administered_by
from schoolgate.schools.permissions import permissions_for


def navigation(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    school = getattr(request, "school", None)
    context = {"school": school, "can": permissions_for(user, school)} if school else {}
    if school:
        from schoolgate.concerns.access import may_read_any
        from schoolgate.inbox.views import works_inbox
        from schoolgate.listening.views import watches

        context["reads_concerns"] = may_read_any(user, school)
        context["works_inbox"] = works_inbox(user, school)
        context["watches_listening"] = watches(user, school)
    trusts = trusts_administered_by(user)
    return {
        **context,
        "my_trusts": list(Trust.objects.filter(pk__in=trusts).only("name")) if trusts else [],
        "my_schools": list(School.objects.for_user(user).only("name", "slug")),
        "unread_notifications": Notification.objects.filter(user=user).unread().count(),
    }
