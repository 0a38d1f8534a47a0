"""The two demo schools, seeded from their real policies, with settings that match each policy."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from schoolgate.accounts.models import User
from schoolgate.audit import actions as audit
from schoolgate.media.actions import mark_not_pupil, upload_media
from schoolgate.media.models import Licence
from schoolgate.official_accounts.models import AccountStatus, Likelihood, OfficialAccount, Visibility
from schoolgate.policy.models import (
    Acknowledgement,
    CommentsDefault,
    Document,
    DocumentKind,
    DocumentVersion,
    PolicySettings,
    PupilNamingRule,
    VersionApproval,
    VersionStatus,
    add_months,
)
from schoolgate.posts.actions import (
    create_draft,
    final_approve_post,
    final_approvers,
    record_manual_publication,
    review_post,
    submit_for_review,
)
from schoolgate.posts.models import PostStatus, ReviewDecision
from schoolgate.pupils.actions import record_consents, record_do_not_photograph
from schoolgate.pupils.models import Carer, CarerLink, ConsentChannel, ConsentDecision, ConsentUse, Pupil
from schoolgate.schools.models import Closure, Membership, School, Trust
from schoolgate.schools.roles import MFA_REQUIRED_ROLES, Role

DEMO_PASSWORD = "schoolgate-demo"  # noqa: S105 - printed for the demo; never used outside it
# A published demo secret so demo users can log in with any authenticator app (or `manage.py demo_totp`).
DEMO_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # noqa: S105
DEMO_DIR = Path(__file__).parent / "demo"

CODE_OF_CONDUCT = """Staff code of conduct (extract on online behaviour)

Staff keep professional boundaries online as they do in school. They do not share pupils' personal information, photographs or details of their families on personal accounts.

Staff use only the school's official accounts and tools for school communication, and follow the social media policy for every post.

Any concern about the online conduct of a colleague, a pupil or a parent is reported to the Designated Safeguarding Lead without delay."""

ACCEPTABLE_USE = """Acceptable use policy (staff and volunteers)

School devices, systems and accounts are for school purposes. Personal use of social media on school devices during working hours is not permitted.

Passwords are kept private and not shared. Staff log out of official accounts after use and report any suspected compromise at once.

Use of school systems may be monitored in line with school policies."""

SCHOOLS = [
    {
        "slug": "applebee-wood",
        "name": "Applebee Wood Community Specialist School",
        "domain": "applebeewood.example",
        "policy_file": "applebee-wood-social-media-policy.txt",
        # AW §4: a colleague reads and agrees every public communication; the headteacher approves
        # official use; activity involving pupils is moderated; no private messaging with families.
        "settings": {
            "account_approver_role": Role.HEADTEACHER,
            "final_post_approver_role": "",
            "final_approver_deputy_role": "",
            "required_reviewers": 1,
            "reply_deadline_hours": 24,
            "pupil_naming_rule": PupilNamingRule.FIRST_NAMES_ONLY,
            "comments_default": CommentsDefault.MODERATED,
            "private_messages_forbidden": True,
        },
        "reviewed_on": dt.date(2023, 9, 1),  # "Last reviewed Sept 2023 / Next review Sept 2024"
        "people": [
            ("Helen Carter", "head", [Role.HEADTEACHER], "Headteacher"),
            ("Priya Shah", "dsl", [Role.DSL, Role.LEADERSHIP], "Assistant head, DSL"),
            ("Tom Evans", "deputy.dsl", [Role.DEPUTY_DSL], "Pastoral lead"),
            ("Mark Lewis", "deputy.head", [Role.LEADERSHIP], "Deputy headteacher"),
            ("Amy Green", "a.green", [Role.STAFF], "Class teacher"),
            ("Jo Baker", "office", [Role.STAFF], "School business manager"),
            ("Ruth Price", "volunteer", [Role.VOLUNTEER], "Reading volunteer"),
            ("Margaret Hughes", "chair", [Role.CHAIR_OF_GOVERNORS], "Chair of governors"),
        ],
        # "Applebee Wood official social media channel is a Twitter and facebook pages"
        "accounts": [
            {
                "name": "Applebee Wood on Facebook",
                "network": "facebook",
                "proposer": Role.LEADERSHIP,
                "decided": True,
                "aim": "News, celebrations and reminders for families.",
                "audience": "Parents, carers and the local community",
                "staff": [Role.LEADERSHIP, Role.STAFF],
                "checklist_on": dt.date(2026, 6, 1),
            },
            {
                "name": "Applebee Wood on X",
                "network": "x",
                "proposer": Role.LEADERSHIP,
                "decided": True,
                "aim": "Short updates on school life and events.",
                "audience": "Families and partner organisations",
                "staff": [Role.LEADERSHIP],
                "checklist_on": dt.date(2024, 9, 1),
            },
        ],
        "pupils": [
            ("AW1001", "Oliver", "Bennett", "6"),
            ("AW1002", "Amelia", "Khan", "6"),
            ("AW1003", "Jack", "Williams", "5"),
            ("AW1004", "Isla", "Roberts", "5"),
        ],
    },
    {
        "slug": "raleigh",
        "name": "The Raleigh School",
        "domain": "raleigh.example",
        "policy_file": "raleigh-social-media-policy.txt",
        # RS Roles: the headteacher approves account creation and every post before it goes live;
        # comments answered within 24 hours or the next working day.
        "settings": {
            "account_approver_role": Role.HEADTEACHER,
            "final_post_approver_role": Role.HEADTEACHER,
            "final_approver_deputy_role": Role.LEADERSHIP,
            "required_reviewers": 1,
            "reply_deadline_hours": 24,
            "pupil_naming_rule": PupilNamingRule.NO_NAMES_WITH_PHOTOS,
            "comments_default": CommentsDefault.OPEN,
            "private_messages_forbidden": False,
        },
        "reviewed_on": dt.date(2021, 3, 1),  # "Next review: Spring 2022"
        "open_draft": True,
        "people": [
            ("David Moore", "head", [Role.HEADTEACHER], "Headteacher"),
            ("Sarah Ahmed", "dsl", [Role.DSL], "Designated Safeguarding Lead"),
            ("Chris Wood", "deputy.dsl", [Role.DEPUTY_DSL, Role.LEADERSHIP], "Deputy headteacher"),
            ("Laura Bennett", "leadership", [Role.LEADERSHIP], "Assistant headteacher"),
            ("Ben Taylor", "b.taylor", [Role.STAFF], "Year 4 teacher"),
            ("Kate Fisher", "office", [Role.STAFF], "Office manager"),
            ("Peter Hall", "volunteer", [Role.VOLUNTEER], "PTA volunteer"),
            ("Richard Cole", "chair", [Role.CHAIR_OF_GOVERNORS], "Chair of governors"),
        ],
        "accounts": [
            {
                "name": "The Raleigh School on Bluesky",
                "network": "bluesky",
                "proposer": Role.LEADERSHIP,
                "decided": True,
                "aim": "Class news and celebrations for Raleigh families.",
                "audience": "Parents and carers of Raleigh pupils",
                "staff": [Role.STAFF, Role.LEADERSHIP],
            },
            # The policy's own example of an account the community might propose.
            {
                "name": "Friends of The Raleigh",
                "network": "facebook",
                "proposer": Role.VOLUNTEER,
                "decided": False,
                "aim": "Fundraising events and volunteering by the Friends of The Raleigh (PTA).",
                "audience": "Raleigh families and local supporters",
                "registration": "friends",
            },
        ],
        "pupils": [
            ("RS2001", "Noah", "Patel", "4"),
            ("RS2002", "Freya", "Thompson", "4"),
            ("RS2003", "Leo", "Harrison", "3"),
            ("RS2004", "Mia", "Clarke", "3"),
        ],
    },
]
SHARED_GOVERNOR = ("Sam Okafor", "sam.okafor@governors.example")
TRUST_ADMIN = ("Alex Morgan", "it@trust.example")


def _user(full_name: str, email: str) -> User:
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(email=email, password=DEMO_PASSWORD, full_name=full_name)
    return user


def _enrol_demo_totp(user: User) -> None:
    if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
        TOTP.activate(user, DEMO_TOTP_SECRET)


def _demo_account(
    school,
    people,
    domain,
    *,
    name,
    network,
    aim,
    audience,
    proposer,
    decided,
    staff=(),
    checklist_on=None,
    registration="office",
):
    account = OfficialAccount.objects.create(
        school=school,
        name=name,
        network=network,
        registration_email=f"{registration}@{domain}",
        aim=aim,
        intended_audience=audience,
        promotion="School newsletter, website footer and the welcome pack.",
        visibility=Visibility.OPEN,
        objectives="Share learning and celebrate achievements with families.",
        intended_outcomes="More families see school news; fewer calls to the office about events.",
        risks="Inappropriate comments; a pupil identified without consent; account takeover.",
        likelihood=Likelihood.MEDIUM,
        mitigations="Colleague review of every post; consent checks; replies "
        "monitored daily; two-factor authentication; login held in escrow by leadership.",
        proposed_by=people[proposer],
        proposed_at=timezone.now() - dt.timedelta(days=40),
    )
    if decided:
        account.status, account.decided_by = AccountStatus.APPROVED, people[Role.HEADTEACHER]
        account.decided_at = timezone.now() - dt.timedelta(days=35)
        account.save(update_fields=["status", "decided_by", "decided_at"])
    if checklist_on:
        account.two_factor_enabled, account.recovery_email = True, f"office@{domain}"
        account.password_changed_on = checklist_on
        account.checklist_confirmed_by, account.checklist_confirmed_at = people[Role.HEADTEACHER], timezone.now()
        account.save()
    # Every member holding one of these roles posts on the account (the demo teacher too, not only the first).
    account.authorised_staff.set(
        User.objects.filter(memberships__school=school, memberships__role__in=staff).distinct() if staff else []
    )
    return account


def _through_the_chain(post, people) -> None:
    """A colleague agrees the post and, where the policy names one, the final approver approves it."""
    submit_for_review(post, by=post.author)
    confirmed = [image.pk for image in post.images.all()]
    review_post(post, by=people[Role.DSL], decision=ReviewDecision.APPROVED, confirmed_images=confirmed)
    post.refresh_from_db()
    if post.status == PostStatus.AWAITING_APPROVAL:
        approver = final_approvers(post)[0][0]
        final_approve_post(post, by=approver, decision=ReviewDecision.APPROVED, confirmed_images=confirmed)


def _demo_consent(school, people, pupils) -> None:
    """A parent per pupil; most said yes on the paper form, one refused, one asked not to be photographed."""
    office = people[Role.HEADTEACHER]
    september = dt.date(2026, 9, 7)
    for number, pupil in enumerate(pupils):
        parent = Carer.objects.create(
            school=school,
            full_name=f"{pupil.legal_forename}'s parent {pupil.legal_surname}",
            email=f"parent{pupil.pk}@example.org",
        )
        CarerLink.objects.create(carer=parent, pupil=pupil, relationship="Parent", parental_responsibility=True)
        decision = ConsentDecision.REFUSED if number == 1 else ConsentDecision.GIVEN
        record_consents(
            pupil,
            by=office,
            uses=list(ConsentUse),
            decision=decision,
            given_by=parent,
            channel=ConsentChannel.PAPER,
            decided_on=september,
        )
        if number == 3:
            record_do_not_photograph(
                pupil,
                by=office,
                requested_by=None,
                requested_by_pupil=True,
                requested_on=dt.date(2026, 10, 12),
                note="Asked their teacher not to be in class photos.",
            )


def _demo_photo(school, people):
    """A photo from the repository's public-domain bench set, with its one face marked as a visitor."""
    path = Path(__file__).resolve().parents[2] / "bench" / "data" / "faces" / "grace_hopper.jpg"
    item = upload_media(
        school,
        by=people[Role.STAFF],
        file=SimpleUploadedFile("visiting-speaker.jpg", path.read_bytes(), "image/jpeg"),
        source="Supplied by the speaker for our newsletter",
        photographer="US Navy (public domain)",
        licence=Licence.PUBLIC_DOMAIN,
        alt_text="Our visiting speaker in naval uniform",
    )
    for face in item.faces.all():
        mark_not_pupil(face, by=people[Role.STAFF], note="Visiting speaker, permission given")
    item.refresh_from_db()
    return item


def _demo_published_posts(school, people, domain) -> None:
    """Published news, posted on the school website by hand and recorded, so the news page and feeds have items."""
    noticeboard = _demo_account(
        school,
        people,
        domain,
        name="School website news",
        network="other",
        aim="The news page of the school website, for families who do not use social media.",
        audience="Families and the local community",
        proposer=Role.LEADERSHIP,
        decided=True,
        staff=[Role.STAFF, Role.LEADERSHIP],
    )
    photo = _demo_photo(school, people)
    for text, images in [
        (
            "Harvest festival: thank you for the 212 tins and packets collected for the local food bank. "
            "Every class helped to sort them.",
            [],
        ),
        (
            "Reminder: school closes at 1.30pm on Friday 18 December for the Christmas holiday and reopens "
            "on Monday 4 January.",
            [],
        ),
        ("Our Year 6 assembly heard about the history of computing from a visiting speaker today.", [photo]),
    ]:
        post = create_draft(school, by=people[Role.STAFF], accounts=[noticeboard], text=text, images=images)
        _through_the_chain(post, people)
        delivery = post.deliveries.get()
        record_manual_publication(
            delivery, by=people[Role.STAFF], url=f"https://www.{domain}/news/{post.pk}-{slugify(text[:30])}"
        )


def _at(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(16, 0), tzinfo=timezone.get_current_timezone())


def _current_version(
    document: Document, *, text: str, reviewed_on: dt.date, approvers: dict, settings=None, drafted_by: User
) -> DocumentVersion:
    version = DocumentVersion.objects.create(
        document=document,
        number=1,
        status=VersionStatus.CURRENT,
        text=text,
        drafted_by=drafted_by,
        drafted_at=_at(reviewed_on - dt.timedelta(days=14)),
        reviewed_on=reviewed_on,
        became_current_at=_at(reviewed_on),
        next_review_on=add_months(reviewed_on, 12),
        change_summary="Imported from the school's published policy",
    )
    if settings is not None:
        PolicySettings.objects.create(version=version, **settings)
    for role, user in approvers.items():
        VersionApproval.objects.create(version=version, role=role, approved_by=user, approved_at=_at(reviewed_on))
    return version


@transaction.atomic
def seed_demo() -> list[School]:
    """Create the demo trust, both schools, their people, policies and a few pupils. Safe to run twice."""
    if School.objects.filter(slug__in=[s["slug"] for s in SCHOOLS]).exists():
        return []
    trust, _ = Trust.objects.get_or_create(name="Demo Learning Trust")
    admin = _user(*TRUST_ADMIN)
    admin.is_staff = admin.is_superuser = True
    admin.save(update_fields=["is_staff", "is_superuser"])
    trust.admins.add(admin)
    _enrol_demo_totp(admin)
    governor = _user(*SHARED_GOVERNOR)
    schools = []
    for spec in SCHOOLS:
        school = School.objects.create(
            name=spec["name"],
            slug=spec["slug"],
            trust=trust,
            website=f"https://www.{spec['domain']}/",
            email_domains=spec["domain"],
        )
        people = {}
        for full_name, local, roles, title in spec["people"]:
            user = _user(full_name, f"{local}@{spec['domain']}")
            for role in roles:
                Membership.objects.create(school=school, user=user, role=role, job_title=title)
            if MFA_REQUIRED_ROLES & set(roles):
                _enrol_demo_totp(user)
            people[roles[0]] = user
        Membership.objects.create(school=school, user=governor, role=Role.GOVERNOR, job_title="Parent governor")
        head, chair = people[Role.HEADTEACHER], people[Role.CHAIR_OF_GOVERNORS]
        approvers = {Role.HEADTEACHER: head, Role.CHAIR_OF_GOVERNORS: chair}

        policy = Document.objects.create(
            school=school, kind=DocumentKind.SOCIAL_MEDIA_POLICY, title="Social media policy"
        )
        text = (DEMO_DIR / spec["policy_file"]).read_text(encoding="utf-8").strip()
        current = _current_version(
            policy,
            text=text,
            reviewed_on=spec["reviewed_on"],
            approvers=approvers,
            settings=spec["settings"],
            drafted_by=head,
        )
        recent = dt.date(2026, 9, 1)
        related = [
            _current_version(
                Document.objects.create(school=school, kind=kind, title=title),
                text=body,
                reviewed_on=recent,
                approvers=approvers,
                drafted_by=head,
            )
            for kind, title, body in [
                (DocumentKind.CODE_OF_CONDUCT, "Staff code of conduct", CODE_OF_CONDUCT),
                (DocumentKind.ACCEPTABLE_USE, "Acceptable use policy", ACCEPTABLE_USE),
            ]
        ]
        # Some people have confirmed reading the documents in force, some have not yet.
        for version in [current, *related]:
            for user in (head, chair, people[Role.DSL]):
                Acknowledgement.objects.create(
                    version=version, user=user, acknowledged_at=_at(version.reviewed_on + dt.timedelta(days=3))
                )
        if spec.get("open_draft"):
            draft = DocumentVersion.objects.create(
                document=policy,
                number=2,
                status=VersionStatus.DRAFT,
                text=text,
                drafted_by=head,
                drafted_at=timezone.now(),
                change_summary="Annual review 2026",
            )
            PolicySettings.objects.create(version=draft, **spec["settings"])
        pupils = [
            Pupil.objects.create(
                school=school,
                upn=upn,
                legal_forename=forename,
                legal_surname=surname,
                year_group=year,
                registration_group=f"{year}A",
            )
            for upn, forename, surname, year in spec["pupils"]
        ]
        _demo_consent(school, people, pupils)
        accounts = [_demo_account(school, people, spec["domain"], **account) for account in spec["accounts"]]
        # A post from a member of staff, waiting for a colleague's review.
        author = people[Role.STAFF]
        post = create_draft(
            school,
            by=author,
            accounts=[accounts[0]],
            text="Our Year 4 class had a wonderful afternoon planting bulbs in the school garden. "
            "Thank you to the families who donated compost!",
        )
        submit_for_review(post, by=author)
        _demo_published_posts(school, people, spec["domain"])
        Closure.objects.create(
            school=school, starts_on=dt.date(2026, 12, 19), ends_on=dt.date(2027, 1, 4), label="Christmas holiday"
        )
        from schoolgate.concerns.demo import seed_demo_concerns  # a higher app: imported where it is used

        seed_demo_concerns(school, people, pupils)
        from schoolgate.declarations.demo import seed_demo_declarations  # a higher app: imported where it is used

        seed_demo_declarations(school, people, pupils)
        # After the declarations: training dates count from when people joined, which those set.
        from schoolgate.training.demo import seed_demo_training  # a higher app: imported where it is used

        seed_demo_training(school, people)
        from schoolgate.inbox.demo import seed_demo_inbox  # a higher app: imported where it is used

        seed_demo_inbox(school, people)
        from schoolgate.listening.demo import seed_demo_listening  # a higher app: imported where it is used

        seed_demo_listening(school, people)
        audit.log("demo.seeded", actor="system", target=school)
        schools.append(school)
    return schools
