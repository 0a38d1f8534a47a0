"""Demo concerns for a demo school: several kinds in several states (called by schools/demo_data.seed_demo)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from schoolgate.concerns import actions, retention
from schoolgate.concerns.models import Category, Concern, Entry, SubjectKind, WhereKind
from schoolgate.pupils.models import Pupil
from schoolgate.schools.roles import Role


def seed_demo_concerns(school, people: dict, pupils: list) -> list:
    """1. a disclosure nobody has read yet; 2. personal-account contact, assessed, routed, led and the parent spoken
    to; 3. an allegation against a member of staff with the LADO clock running; 4. a data breach, closed with
    reasons; 5. an allegation routed to the allegations procedure, referred to the LADO, with a lead and an
    action; 6. underage use, with the parents not yet contacted (the page asks for it); 7. a former pupil's
    record from years ago, closed and now due for a retention review."""
    staff, dsl, head = people[Role.STAFF], people[Role.DSL], people[Role.HEADTEACHER]
    colleague = school.members_with_role(Role.STAFF).exclude(pk=staff.pk).first() or staff
    today = timezone.localdate()
    made = []
    made.append(
        actions.report_concern(
            school,
            by=staff,
            category=Category.DISCLOSURE,
            text="At break a pupil told me an older boy online keeps asking her to send photos, and said not to tell.",
            happened_on=today,
            where_kind=WhereKind.IN_PERSON,
            pupils=pupils[:1],
        )
    )
    contact = actions.report_concern(
        school,
        by=colleague,
        category=Category.PERSONAL_ACCOUNT_CONTACT,
        text="A parent sent me a friend request and a message on my personal Facebook about her son's report.",
        happened_on=today - dt.timedelta(days=2),
        where_kind=WhereKind.PERSONAL_ACCOUNT,
        network="facebook",
        about_carer="Parent of a Year 4 pupil",
    )
    actions.open_concern(contact, by=dsl)
    actions.add_entry(contact, by=dsl, kind="assessment", text="No risk to the child; boundaries reminder needed.")
    actions.add_entry(contact, by=dsl, kind="routed", procedure="behaviour", owner=dsl)
    actions.add_entry(contact, by=dsl, kind="lead", owner=dsl)
    actions.add_entry(
        contact,
        by=dsl,
        kind="parent_contact",
        contact="The parent",
        occurred_at=timezone.now() - dt.timedelta(hours=20),
        contact_method="phone",
        shared="Staff cannot use personal accounts with families; the school office or official email instead.",
        outcome="Understood; she will use the office email.",
    )
    made.append(contact)
    made.append(
        actions.report_concern(
            school,
            by=dsl,
            category=Category.STAFF_CONDUCT,
            text="A parent showed me a public post in which a member of staff mocks a pupil's behaviour.",
            happened_on=today,
            where_kind=WhereKind.PERSONAL_ACCOUNT,
            network="x",
            staff=[colleague] if colleague != dsl else [],
        )
    )
    breach = actions.report_concern(
        school,
        by=staff,
        category=Category.DATA_BREACH,
        text="A class list with dates of birth was emailed to one parent by mistake.",
        happened_on=today - dt.timedelta(days=3),
        where_kind=WhereKind.ONLINE_OTHER,
    )
    actions.open_concern(breach, by=head)
    actions.add_entry(
        breach,
        by=head,
        kind="agency",
        agency="ico",
        agency_decision="not_referred",
        reason="The parent deleted it within the hour and confirmed in writing; low risk to the pupils' rights.",
    )
    actions.add_entry(breach, by=head, kind="closure", text="Logged as a breach.", reason="Contained; no further risk.")
    made.append(breach)
    made.append(_referred_allegation(school, staff=staff, colleague=colleague, head=head))
    made.append(_underage_use(school, reporter=colleague, dsl=dsl, pupil=pupils[min(2, len(pupils) - 1)]))
    made.append(_former_pupils_record(school, reporter=staff, dsl=dsl))
    return made


def _referred_allegation(school, *, staff, colleague, head):
    allegation = actions.report_concern(
        school,
        by=colleague,
        category=Category.COLLEAGUE_ABUSE,
        text="A colleague posted insulting comments about me and another teacher in a local parents' Facebook group.",
        happened_on=timezone.localdate() - dt.timedelta(days=1),
        where_kind=WhereKind.ONLINE_OTHER,
        network="facebook",
        staff=[staff],
    )
    actions.open_concern(allegation, by=head)
    actions.add_entry(
        allegation, by=head, kind="assessment", text="Possible harassment of colleagues; allegations route."
    )
    actions.add_entry(allegation, by=head, kind="routed", procedure="allegations", owner=head)
    actions.add_entry(allegation, by=head, kind="lead", owner=head, text="The headteacher leads, with HR advice.")
    actions.add_entry(
        allegation,
        by=head,
        kind="agency",
        agency="lado",
        agency_decision="referred",
        occurred_at=timezone.now() - dt.timedelta(hours=3),
        reference="LADO-2026-0412",
        text="Discussed with the LADO by phone; advice to handle under the staff conduct procedure.",
    )
    actions.add_entry(
        allegation,
        by=head,
        kind="action",
        text="Meet the member of staff with HR to hear their account.",
        owner=head,
        due_on=timezone.localdate() + dt.timedelta(days=5),
    )
    subject = allegation.subjects.get(kind=SubjectKind.STAFF)
    actions.record_staff_dates(subject, by=head, date_of_birth=dt.date(1978, 3, 14))
    return allegation


def _underage_use(school, *, reporter, dsl, pupil):
    concern = actions.report_concern(
        school,
        by=reporter,
        category=Category.UNDERAGE_USE,
        text="A Year 5 pupil showed friends the TikTok account she posts dance videos on; she is 10.",
        happened_on=timezone.localdate(),
        where_kind=WhereKind.IN_PERSON,
        network="tiktok",
        pupils=[pupil],
    )
    actions.open_concern(concern, by=dsl)
    actions.add_entry(concern, by=dsl, kind="assessment", text="No sign of contact from adults; parents to be told.")
    actions.add_entry(concern, by=dsl, kind="lead", owner=dsl)
    return concern


def _former_pupils_record(school, *, reporter, dsl):
    """A closed record of a pupil who left years ago: made through the actions, then dated back to when it
    happened (demo data only: the app itself never changes an entry's dates)."""
    former, _ = Pupil.objects.get_or_create(
        school=school,
        upn=f"{school.slug[:6].upper()}-HIST1",
        defaults={"legal_forename": "Sam", "legal_surname": "Former", "date_of_birth": dt.date(1999, 5, 14)},
    )
    concern = actions.report_concern(
        school,
        by=reporter,
        category=Category.BULLYING,
        text="Name-calling about a pupil in a class group chat, shown to me by his mother.",
        happened_on=timezone.localdate(),
        where_kind=WhereKind.ONLINE_OTHER,
        network="whatsapp",
        pupils=[former],
    )
    actions.open_concern(concern, by=dsl)
    actions.add_entry(concern, by=dsl, kind="routed", procedure="anti_bullying", owner=dsl)
    actions.add_entry(
        concern, by=dsl, kind="closure", text="Group chat closed by parents.", reason="Resolved with both families."
    )
    then = dt.datetime(2011, 3, 8, 10, 30, tzinfo=dt.UTC)
    Concern.objects.filter(pk=concern.pk).update(
        reported_at=then, happened_on=then.date(), first_read_at=then, closed_at=then + dt.timedelta(days=3)
    )
    for number, entry in enumerate(concern.entries.order_by("pk")):
        Entry.objects.filter(pk=entry.pk).update(recorded_at=then + dt.timedelta(days=2 * number + 1))
    Pupil.objects.filter(pk=former.pk).update(leaving_date=dt.date(2015, 7, 22))
    retention.refresh_review_dates(Concern.objects.filter(pk=concern.pk))
    return concern
