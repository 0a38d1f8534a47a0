"""Post actions: review chain (review.py), screening, exactly-once publishing and take-downs (takedown.py)."""

from schoolgate.posts.actions.prerequisites import training_problem
from schoolgate.posts.actions.publishing import (
    record_manual_publication,
    resolve_uncertain_delivery,
    retry_delivery,
    schedule_deliveries,
    send_delivery,
)
from schoolgate.posts.actions.review import (
    create_draft,
    edit_post,
    eligible_reviewers,
    final_approve_post,
    final_approvers,
    override_approvers,
    override_findings,
    problems_before_review,
    review_post,
    set_away,
    submit_for_review,
    withdraw_post,
)
from schoolgate.posts.actions.screening import screen_post, unresolved_blocking_findings
from schoolgate.posts.actions.takedown import (
    record_manual_removal,
    request_takedown,
    take_down,
)

__all__ = [
    "create_draft",
    "edit_post",
    "eligible_reviewers",
    "final_approve_post",
    "final_approvers",
    "override_approvers",
    "override_findings",
    "problems_before_review",
    "record_manual_publication",
    "record_manual_removal",
    "request_takedown",
    "resolve_uncertain_delivery",
    "retry_delivery",
    "review_post",
    "schedule_deliveries",
    "screen_post",
    "send_delivery",
    "set_away",
    "take_down",
    "submit_for_review",
    "training_problem",
    "unresolved_blocking_findings",
    "withdraw_post",
]
