"""Due dates follow people as they join and leave: a membership added or removed refreshes that person's training
due dates at once (after commit), so a new member sees their induction due on their first day, not at the next
hourly refresh. Schools that have not started training (no settings yet) are left to the hourly job."""

from __future__ import annotations

from django.db import transaction


def membership_changed(sender, instance, **kwargs) -> None:
    from schoolgate.training.actions import refresh_deadlines
    from schoolgate.training.models import TrainingSettings

    school_id, user_id = instance.school_id, instance.user_id

    def refresh():
        settings = TrainingSettings.objects.filter(school_id=school_id).select_related("school").first()
        if settings is not None:
            refresh_deadlines(settings.school, users=[user_id], settings=settings)

    transaction.on_commit(refresh)
