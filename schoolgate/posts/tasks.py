"""Publishing and take-down jobs: one job per delivery, and sweeps for what is due or was left mid-way."""

from __future__ import annotations

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from schoolgate.posts.models import Delivery, DeliveryStatus, Takedown


@db_task()
def publish_delivery(delivery_id: int) -> str:
    from schoolgate.posts.actions.publishing import send_delivery

    return send_delivery(delivery_id)


@db_periodic_task(crontab(minute="*"))
def publish_due_deliveries() -> int:
    """Scheduled posts whose time has come, retries whose wait is over, and sends whose worker died."""
    ids = list(Delivery.objects.due(timezone.now()).order_by("due_at").values_list("pk", flat=True))
    for delivery_id in ids:
        publish_delivery(delivery_id)
    return len(ids)


@db_task()
def remind_overdue_takedown(takedown_id: int) -> bool:
    from schoolgate.posts.actions.takedown import remind_overdue

    return remind_overdue(takedown_id)


@db_periodic_task(crontab(minute="*/15"))
def remind_overdue_takedowns() -> int:
    ids = list(
        Takedown.objects.open()
        .filter(due_at__lte=timezone.now(), overdue_notified_at__isnull=True)
        .values_list("pk", flat=True)
    )
    for takedown_id in ids:
        remind_overdue_takedown(takedown_id)
    return len(ids)


@db_task()
def finish_removal(delivery_id: int) -> bool:
    from schoolgate.posts.actions.takedown import resume_removal

    return resume_removal(delivery_id)


@db_periodic_task(crontab(minute="*"))
def resume_interrupted_removals() -> int:
    """Copies a process was deleting when it died (web or worker): finish them once their lease has run out."""
    ids = list(
        Delivery.objects.filter(status=DeliveryStatus.REMOVING, lease_expires_at__lte=timezone.now()).values_list(
            "pk", flat=True
        )
    )
    for delivery_id in ids:
        finish_removal(delivery_id)
    return len(ids)
