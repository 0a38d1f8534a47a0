"""Demo training for a demo school: courses, records with some overdue, factsheets read by some, privacy
self-checks by some, and the page for pupils and families (called by schools/demo_data.seed_demo)."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from schoolgate.policy import actions as policy_actions
from schoolgate.policy.guidance import STARTER_FACTSHEETS
from schoolgate.policy.models import DocumentVersion, GuidanceKind
from schoolgate.schools.models import Membership
from schoolgate.schools.roles import Role
from schoolgate.training import actions
from schoolgate.training.models import Completion, Course, CourseKind, PrivacyCheck
from schoolgate.training.privacy import ITEM_KEYS, Answer

SETTLED_DAYS = 500  # everyone but the new member of staff joined this long ago (as the declarations demo has it)
NEW_JOINER_DAYS = 45  # the new member of staff's induction was due 15 days ago
DSL_COURSE = "Safeguarding and online safety for DSLs"


def _ago(days: int) -> dt.date:
    return timezone.localdate() - dt.timedelta(days=days)


def _new_joiner(school):
    """A teaching assistant who started this term: the one whose induction shows as overdue."""
    from schoolgate.accounts.models import User
    from schoolgate.schools.demo_data import DEMO_PASSWORD

    domain = (school.email_domain_list() or ["example.org"])[0]
    email = f"s.rivers@{domain}"
    user = User.objects.filter(email=email).first() or User.objects.create_user(
        email=email, password=DEMO_PASSWORD, full_name="Sam Rivers"
    )
    membership, _ = Membership.objects.get_or_create(
        school=school, user=user, role=Role.STAFF, defaults={"job_title": "Teaching assistant"}
    )
    Membership.objects.filter(pk=membership.pk).update(created_at=timezone.now() - dt.timedelta(days=NEW_JOINER_DAYS))
    return user


@transaction.atomic
def seed_demo_training(school, people: dict) -> None:
    """1. a new member of staff who joined this term (the rest long ago); 2. the default courses and a DSL course;
    3. attendance: some up to date, a refresher overdue, the new joiner's induction overdue, one self-record to
    confirm; 4. the starter factsheets in force, one revised, read by some; 5. the pupils' page; 6. privacy
    self-checks by some (one overdue). Safe to run twice: a school with training records is left as it is."""
    actions.ensure_defaults(school)
    if Completion.objects.at_school(school).exists():
        return
    head, dsl, deputy = people[Role.HEADTEACHER], people[Role.DSL], people[Role.DEPUTY_DSL]
    leader, volunteer = people[Role.LEADERSHIP], people[Role.VOLUNTEER]
    teacher, office = list(school.members_with_role(Role.STAFF).order_by("full_name"))[:2]
    now = timezone.now()
    # People seeded a moment ago joined long ago (the declarations demo may have said so already).
    Membership.objects.filter(school=school, created_at__gt=now - dt.timedelta(days=7)).update(
        created_at=now - dt.timedelta(days=SETTLED_DAYS)
    )
    _new_joiner(school)
    long_ago = now - dt.timedelta(days=3 * 365)

    dsl_course = Course.objects.filter(school=school, name=DSL_COURSE).first() or actions.save_course(
        school,
        by=head,
        name=DSL_COURSE,
        kind=CourseKind.OTHER,
        description="Designated safeguarding lead training, including online safety and the LADO process.",
        roles=[Role.DSL, Role.DEPUTY_DSL],
        renewal_months=24,
        due_within_days=90,
    )
    Course.objects.filter(school=school).update(created_at=long_ago - dt.timedelta(days=10))
    induction = Course.objects.get(school=school, kind=CourseKind.INDUCTION)
    refresher = Course.objects.get(school=school, kind=CourseKind.REFRESHER)
    settled = [p for p in (dsl, deputy, leader, teacher, office, volunteer) if p != head]

    def attended(course, users, days_ago, note=""):
        others = [u for u in users if u != head]
        if others:
            actions.record_attendance(course, by=head, users=others, completed_on=_ago(days_ago), note=note)
        if head in users:
            actions.record_attendance(course, by=dsl, users=[head], completed_on=_ago(days_ago), note=note)

    attended(induction, [head, *settled], SETTLED_DAYS - 7, "Induction week")
    attended(refresher, [head, dsl, leader, office], 60, "September INSET")
    attended(refresher, [deputy], 352, "December INSET")  # due again within the fortnight
    attended(refresher, [teacher], 430, "October INSET")  # overdue
    attended(dsl_course, [dsl], 365, "Local authority DSL course")  # deputy's is overdue
    actions.record_own_completion(
        refresher, by=volunteer, completed_on=_ago(6), note="Online module, certificate emailed to the office"
    )

    _seed_factsheets(school, head=head, dsl=dsl, leader=leader, teacher=teacher, volunteer=volunteer)
    if not school.documents.filter(kind=GuidanceKind.PUPIL_GUIDANCE).exists():
        page = policy_actions.start_pupil_guidance(school, by=leader)
        policy_actions.approve_version(page, by=head, role=Role.HEADTEACHER)

    for person, days_ago, answers in [
        (head, 60, {}),
        (dsl, 60, {}),
        (leader, 75, {}),
        (volunteer, 30, {"location_sharing": Answer.NOT_YET}),
        (office, 100, {}),
        (deputy, 400, {}),  # overdue
    ]:
        check = actions.complete_privacy_check(
            school, by=person, answers={**dict.fromkeys(ITEM_KEYS, Answer.YES), **answers}
        )
        PrivacyCheck.objects.filter(pk=check.pk).update(completed_at=timezone.now() - dt.timedelta(days=days_ago))
    actions.refresh_deadlines(school)


def _seed_factsheets(school, *, head, dsl, leader, teacher, volunteer) -> None:
    """Each starter factsheet drafted by a leader and approved by the DSL; the one on passwords revised since."""
    have = set(school.documents.filter(kind=GuidanceKind.FACTSHEET).values_list("title", flat=True))
    current = []
    for title, text in STARTER_FACTSHEETS:
        if title in have:
            continue
        draft = policy_actions.create_factsheet(school, by=leader, title=title, text=text)
        policy_actions.approve_version(draft, by=dsl, role=Role.DSL)
        current.append(DocumentVersion.objects.get(pk=draft.pk))
    for version in current:
        for person in (head, dsl, leader):
            policy_actions.acknowledge_version(version, by=person)
    for version in current[:3]:
        policy_actions.acknowledge_version(version, by=teacher)
    if current:
        policy_actions.acknowledge_version(current[0], by=volunteer)
    passwords = next((v for v in current if v.document.title.startswith("Passwords")), None)
    if passwords is not None:
        policy_actions.acknowledge_version(passwords, by=teacher)
        draft = policy_actions.start_new_version(passwords.document, by=leader)
        policy_actions.save_draft(
            draft,
            by=leader,
            fields={
                "text": passwords.text
                + "\n\nPasskeys are even better than passwords where a site offers them: set one up on your phone.",
                "change_summary": "Added passkeys",
            },
        )
        # The teacher who read version 1 is asked again: a new version needs a new confirmation.
        policy_actions.approve_version(draft, by=head, role=Role.HEADTEACHER)
