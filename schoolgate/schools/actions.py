"""Changes to who holds which role at a school, its details and closure dates, new schools, and trust administrators."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from schoolgate.accounts.models import User
from schoolgate.audit import actions as audit
from schoolgate.publiccache import public_pages_changed
from schoolgate.schools.models import Closure, Membership, School, Trust, validate_one_line
from schoolgate.schools.permissions import require_permission
from schoolgate.schools.roles import MFA_REQUIRED_ROLES, Role


@transaction.atomic
def add_member(school: School, *, by, email: str, full_name: str, role: str, job_title: str = "") -> Membership:
    """Give a person a role at the school, creating their login (with no password yet) if they are new."""
    require_permission(by, school, "school.manage_members")
    if role == Role.TRUST_ADMIN:
        raise ValidationError("Trust administrators are appointed on the trust, not on one school.")
    email = email.strip().lower()
    user = User.objects.filter(email__iexact=email).first()
    created_user = user is None
    if created_user:
        user = User.objects.create_user(email=email, full_name=full_name.strip())
    if Membership.objects.filter(school=school, user=user, role=role).exists():
        raise ValidationError(f"{user} already holds the role {Role(role).label} here.")
    membership = Membership.objects.create(school=school, user=user, role=role, job_title=job_title)
    audit.log(
        "school.member.added",
        actor=by,
        target=membership,
        school=school,
        detail={"user": user.email, "role": role, "new_login": created_user},
    )
    if created_user:
        invite(user, school=school, role=role)
    return membership


@transaction.atomic
def remove_member(membership: Membership, *, by) -> None:
    school = membership.school
    require_permission(by, school, "school.manage_members")
    # Lock the headteacher rows so two removals at once cannot both see "another headteacher remains".
    heads = list(school.memberships.select_for_update().filter(role=Role.HEADTEACHER).values_list("pk", flat=True))
    if membership.role == Role.HEADTEACHER and len(heads) == 1:
        raise ValidationError("The school must keep a headteacher; add the new headteacher first.")
    audit.log(
        "school.member.removed",
        actor=by,
        target=membership,
        school=school,
        detail={"user": membership.user.email, "role": membership.role},
    )
    membership.delete()


def _check_name(name: str) -> None:
    # Before anything changes: a refused name must not reach the page being redrawn, nor any email.
    try:
        validate_one_line(name)
    except ValidationError as error:
        raise ValidationError({"name": error.messages}) from error


def _email_domains(email_domains: str) -> str:
    domains = [d.strip().lower().lstrip("@") for d in email_domains.split(",") if d.strip()]
    invalid = [d for d in domains if "." not in d or " " in d or "@" in d]
    if invalid:
        raise ValidationError({"email_domains": f"“{invalid[0]}” is not an email domain (e.g. raleigh.surrey.sch.uk)."})
    return ", ".join(domains)


def invite(user: User, *, school: School, role: str) -> None:
    """Tell a person with a new login where to start. No link with a token: they ask for one on the password page,
    so nothing in our database or their inbox opens the account until they do (and senior roles then set up an
    authenticator at their first sign-in)."""
    from schoolgate.notifications.actions import notify

    second_factor = (
        " Because of your role you will also set up an authenticator app the first time you sign in."
        if role in MFA_REQUIRED_ROLES
        else ""
    )
    notify(
        [user],
        school=school,
        subject=f"You have been added to {school.name} on Schoolgate",
        body=(
            f"You are now {Role(role).label.lower()} at {school.name} on Schoolgate, which runs the school's official "
            f"social media as its policy says. To sign in, choose a password: open the page below and give this "
            f"address ({user.email}); you will be sent a link.{second_factor}"
        ),
        url=reverse("account_reset_password"),
    )


@transaction.atomic
def update_school_details(school: School, *, by, name: str, website: str, email_domains: str) -> School:
    require_permission(by, school, "school.manage_members")
    _check_name(name)
    before = {"name": school.name, "website": school.website, "email_domains": school.email_domains}
    domains = _email_domains(email_domains)
    school.name, school.website, school.email_domains = name.strip(), website.strip(), domains
    school.full_clean()
    school.save(update_fields=["name", "website", "email_domains"])
    public_pages_changed(school.pk)  # the name is on every public page
    after = {"name": school.name, "website": school.website, "email_domains": school.email_domains}
    audit.log("school.details.changed", actor=by, target=school, changes=audit.diff(before, after))
    return school


@transaction.atomic
def add_closure(school: School, *, by, starts_on, ends_on, label: str) -> Closure:
    require_permission(by, school, "school.manage_closures")
    closure = Closure(school=school, starts_on=starts_on, ends_on=ends_on, label=label)
    closure.full_clean()
    closure.save()
    audit.log(
        "school.closure.added",
        actor=by,
        target=closure,
        school=school,
        detail={"starts_on": starts_on, "ends_on": ends_on, "label": label},
    )
    return closure


@transaction.atomic
def remove_closure(closure: Closure, *, by) -> None:
    require_permission(by, closure.school, "school.manage_closures")
    audit.log("school.closure.removed", actor=by, target=closure, school=closure.school)
    closure.delete()


@transaction.atomic
def create_school(
    *,
    by,
    name: str,
    slug: str,
    headteacher_email: str,
    headteacher_name: str,
    chair_email: str = "",
    chair_name: str = "",
    trust=None,
    nation: str = "",
    email_domains: str = "",
) -> School:
    """Add a school to this deployment with its headteacher and empty first drafts of its documents.

    1. Only a trust administrator of the trust (or a superuser for a school outside any trust) may.
    2. Create the school, the headteacher (and chair, if given) with logins but no password yet, and tell each
       where to start (a new login is told to choose a password; a senior role then sets up an authenticator).
    3. Open a first draft of each policy document with default settings (whose bank holidays count: `nation`);
       the headteacher writes the text and settings, and the headteacher and chair approve it as for any version.
    """
    from schoolgate.policy.models import Document, DocumentKind, DocumentVersion, PolicySettings

    allowed = by.is_superuser or (trust is not None and trust.admins.filter(pk=by.pk).exists())
    if not allowed:
        raise PermissionDenied("Only a trust administrator can add a school to the trust.")
    _check_name(name)
    if School.objects.filter(slug=slug).exists():
        raise ValidationError({"slug": f"The address “{slug}” is already used by another school."})
    school = School(name=name.strip(), slug=slug, trust=trust, email_domains=_email_domains(email_domains))
    school.full_clean()
    school.save()
    people = [(headteacher_email, headteacher_name, Role.HEADTEACHER)]
    if chair_email:
        people.append((chair_email, chair_name, Role.CHAIR_OF_GOVERNORS))
    for email, full_name, role in people:
        user = User.objects.filter(email__iexact=email.strip()).first()
        if user is None:
            user = User.objects.create_user(email=email.strip().lower(), full_name=full_name.strip())
        Membership.objects.create(school=school, user=user, role=role)
        invite(user, school=school, role=role)
    for kind in DocumentKind:
        document = Document.objects.create(school=school, kind=kind, title=kind.label)
        draft = DocumentVersion.objects.create(
            document=document, number=1, text="", drafted_by=by, drafted_at=timezone.now()
        )
        if document.has_settings:
            PolicySettings.objects.create(version=draft, **({"bank_holiday_nation": nation} if nation else {}))
    audit.log(
        "school.created",
        actor=by,
        target=school,
        detail={"headteacher": headteacher_email, "chair": chair_email or None, "trust": trust.name if trust else None},
    )
    return school


@transaction.atomic
def leave_trust(school: School, *, by) -> School:
    """Take a school out of its trust: it goes on as a school of its own, run by its own leaders, and the trust's
    administrators lose their rights there. Only they (or the host) may; logged in the school's own log."""
    school = School.objects.select_for_update(of=("self",)).select_related("trust").get(pk=school.pk)
    trust = school.trust
    if trust is None:
        raise ValidationError(f"{school.name} is not in a trust.")
    if not (by.is_superuser or trust.admins.filter(pk=by.pk).exists()):
        raise PermissionDenied(f"Only an administrator of {trust.name} can take a school out of it.")
    if not school.memberships.filter(role=Role.HEADTEACHER, user__is_active=True).exists():
        raise ValidationError(f"{school.name} has no headteacher to run it outside the trust: add one first.")
    school.trust = None
    school.save(update_fields=["trust"])
    audit.log("school.left_trust", actor=by, target=school, school=school, detail={"trust": trust.name})
    return school


def _require_host(by) -> None:
    # Trusts and their administrators sit above every school: only the people hosting Schoolgate set them up.
    if not getattr(by, "is_superuser", False):
        raise PermissionDenied("Only the people hosting Schoolgate can set up trusts and their administrators.")


def _log_for_each_school(action: str, trust: Trust, *, by, detail: dict) -> None:
    # One entry in each school's own log, because a trust administrator holds rights at every school of the trust.
    schools = list(trust.schools.all()) or [None]
    for school in schools:
        audit.log(action, actor=by, target=trust, school=school, detail=detail)


@transaction.atomic
def create_trust(*, by, name: str) -> Trust:
    _require_host(by)
    trust = Trust(name=name.strip())
    trust.full_clean()
    trust.save()
    audit.log("trust.created", actor=by, target=trust, detail={"name": trust.name})
    return trust


@transaction.atomic
def appoint_trust_admin(trust: Trust, *, by, user: User) -> bool:
    """Give the person rights at every school of the trust. False if they already had them."""
    _require_host(by)
    if trust.admins.filter(pk=user.pk).exists():
        return False
    trust.admins.add(user)
    _log_for_each_school("trust.admin.appointed", trust, by=by, detail={"user": user.email})
    return True


@transaction.atomic
def remove_trust_admin(trust: Trust, *, by, user: User) -> bool:
    """Take away the person's trust-wide rights (their own school roles stay). False if they had none."""
    _require_host(by)
    if not trust.admins.filter(pk=user.pk).exists():
        return False
    trust.admins.remove(user)
    _log_for_each_school("trust.admin.removed", trust, by=by, detail={"user": user.email})
    return True
