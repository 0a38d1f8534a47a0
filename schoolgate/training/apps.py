"""Staff training and the personal-account privacy self-check: records, due dates, reminders, overdue lists."""

from django.apps import AppConfig


class TrainingConfig(AppConfig):
    name = "schoolgate.training"
    label = "training"
    verbose_name = "Staff training"

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from schoolgate.schools.models import Membership
        from schoolgate.training.signals import membership_changed

        post_save.connect(membership_changed, sender=Membership, dispatch_uid="training.membership_saved")
        post_delete.connect(membership_changed, sender=Membership, dispatch_uid="training.membership_deleted")
