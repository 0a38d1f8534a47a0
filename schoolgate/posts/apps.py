"""Publishing (AW-PUB-1, RS-ROLE-2, RS-PUB-1): drafts, colleague review and final approval of every post."""

from django.apps import AppConfig


class PostsConfig(AppConfig):
    name = "schoolgate.posts"
    label = "posts"
    verbose_name = "Posts"

    def ready(self):
        # Explicit hooks, not signals: consent lost opens take-downs (RS-IMG-5); a deleted photo is detached
        # from its posts and any live post showing it is taken down (RS-IMG-4).
        from schoolgate.media.actions import BEFORE_MEDIA_DELETE
        from schoolgate.posts.actions.takedown import detach_deleted_photo, open_takedowns_for_lost_consent
        from schoolgate.pupils.consent import ON_CONSENT_LOST

        if open_takedowns_for_lost_consent not in ON_CONSENT_LOST:
            ON_CONSENT_LOST.append(open_takedowns_for_lost_consent)
        if detach_deleted_photo not in BEFORE_MEDIA_DELETE:
            BEFORE_MEDIA_DELETE.append(detach_deleted_photo)
