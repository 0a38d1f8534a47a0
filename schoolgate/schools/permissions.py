"""Who may do what at a school: the one place every action and view asks."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied

from schoolgate.schools.roles import ALL_ROLES, GOVERNOR_ROLES, LEADER_ROLES, SAFEGUARDING_ROLES, Role

PERMISSIONS: dict[str, frozenset[str]] = {
    "school.view": ALL_ROLES,
    "school.manage_members": frozenset({Role.HEADTEACHER, Role.TRUST_ADMIN}),
    "school.manage_closures": LEADER_ROLES | {Role.TRUST_ADMIN},
    # Pupil and family records come from the school's information system: leaders (or the trust) import
    # them; the safeguarding leads also look pupils up (consent, concerns).
    "pupils.import": LEADER_ROLES | {Role.TRUST_ADMIN},
    "pupils.view": LEADER_ROLES | SAFEGUARDING_ROLES | {Role.TRUST_ADMIN},
    # Who may record photo consent on a family's behalf (paper form, email) and "do not photograph" requests.
    "pupils.consent": LEADER_ROLES | SAFEGUARDING_ROLES | {Role.TRUST_ADMIN},
    "policy.view": ALL_ROLES,
    "policy.draft": LEADER_ROLES,
    "policy.view_acknowledgements": LEADER_ROLES | GOVERNOR_ROLES,
    # Governors scrutinise (AW-PUB-3); the DSL and deputies need the trail of safeguarding decisions.
    # Anyone at the school may propose an official account (the policy's approver decides).
    "accounts.propose": ALL_ROLES,
    # Authorised staff, the security checklist and connections are managed by the school's leaders.
    "accounts.manage": LEADER_ROLES,
    # Who may see how many families subscribe to the news digest (counts only, never the addresses).
    "news.view_subscribers": LEADER_ROLES,
    # Leadership holds the login details for emergencies (AW-ACC-3).
    "accounts.escrow": LEADER_ROLES,
    # Colleague review of posts: anyone employed at the school (not volunteers or governors).
    "posts.review": frozenset({Role.HEADTEACHER, Role.DSL, Role.DEPUTY_DSL, Role.LEADERSHIP, Role.STAFF}),
    # Taking live posts down (consent withdrawn, a compromising image): leaders and the safeguarding leads.
    "posts.take_down": LEADER_ROLES | SAFEGUARDING_ROLES,
    # Photos: staff upload and tag faces; deleting one (a compromising picture, RS-IMG-4) is for leaders and the
    # safeguarding leads, who are also the only ones who may fetch an original as received.
    "media.upload": frozenset({Role.HEADTEACHER, Role.DSL, Role.DEPUTY_DSL, Role.LEADERSHIP, Role.STAFF}),
    "media.delete": LEADER_ROLES | SAFEGUARDING_ROLES,
    # Moderating what reaches the accounts (hide, delete, block, mute, report; approving held replies, RS-ABU-1,
    # AW-MOD-1): leaders and the safeguarding leads anywhere, and an account's authorised staff on that account
    # (checked by the inbox's moderation actions, as for drafting and replying: official_accounts.is_authorised).
    "inbox.moderate": LEADER_ROLES | SAFEGUARDING_ROLES,
    # Answering, triage and notes follow the same rule (RS-MON-1): leaders and the safeguarding leads on every
    # account, authorised staff on theirs. The inbox's settings and templates are the leaders'; the response-time
    # report is also for the safeguarding leads and the governors (figures only, never the words).
    "inbox.answer": LEADER_ROLES | SAFEGUARDING_ROLES,
    "inbox.manage": LEADER_ROLES,
    "inbox.report": LEADER_ROLES | SAFEGUARDING_ROLES | GOVERNOR_ROLES,
    # Anyone with a login at the school reports a safeguarding concern (AW-CON-1); who reads one is decided per
    # concern by the table in concerns/access.py (who it is about), not here.
    "concerns.report": ALL_ROLES,
    # Reporting a concern about a pupil: those who work with pupils choose them from the roster; volunteers and
    # governors (who may not see pupil records) name the pupil in words and the safeguarding lead links the record.
    "concerns.choose_pupils": frozenset({Role.HEADTEACHER, Role.DSL, Role.DEPUTY_DSL, Role.LEADERSHIP, Role.STAFF})
    | {Role.TRUST_ADMIN},
    # How concerns are handled (who reads each kind, procedures, clocks, retention): the headteacher and the DSL.
    # The table still never lets a headteacher read concerns about the headteacher (concerns/access.py).
    "concerns.manage_settings": frozenset({Role.HEADTEACHER, Role.DSL}),
    # Staff training (AW-STAFF-1): leaders and the safeguarding leads keep the records (record attendance, confirm
    # what people record themselves, set courses); governors scrutinise them. Everyone sees their own.
    "training.view_records": LEADER_ROLES | SAFEGUARDING_ROLES | GOVERNOR_ROLES,
    "training.manage": LEADER_ROLES | SAFEGUARDING_ROLES,
    # Staff factsheets and the pupils' page are written by leaders and the safeguarding leads; the headteacher or
    # the DSL approves them (policy/models.py GUIDANCE_APPROVER_ROLES).
    "guidance.draft": LEADER_ROLES | SAFEGUARDING_ROLES,
    # Staff declarations (RS-SCOPE-2, RS-STAFF-1, AW-CON-5, AW-CON-6): every member of the school declares (not
    # the trust's administrators, who are not its staff); the headteacher and the safeguarding leads keep the
    # register of personal accounts and annual declarations; who reviews relationships and decides exceptions is
    # in the school's declaration settings (declarations/access.py), and the headteacher sets those.
    "declarations.declare": ALL_ROLES - {Role.TRUST_ADMIN},
    "declarations.review": SAFEGUARDING_ROLES,
    "declarations.choose_pupils": frozenset({Role.HEADTEACHER, Role.DSL, Role.DEPUTY_DSL, Role.LEADERSHIP, Role.STAFF}),
    "declarations.configure": frozenset({Role.HEADTEACHER}),
    "audit.view": frozenset(
        {Role.HEADTEACHER, Role.DSL, Role.DEPUTY_DSL, Role.CHAIR_OF_GOVERNORS, Role.GOVERNOR, Role.TRUST_ADMIN}
    ),
    # Restricted (safeguarding) entries are shown in full only to these roles; others see them redacted.
    "audit.view_restricted": frozenset({Role.HEADTEACHER, Role.DSL, Role.DEPUTY_DSL}),
    # Listening (RS-WATCH-1): the headteacher, the safeguarding leads and the leaders who manage the accounts choose
    # what is watched; the same people triage what is found, and so do staff authorised on any of the school's
    # accounts (checked by listening/actions/access.py, as the inbox checks its workers).
    "listening.configure": LEADER_ROLES | SAFEGUARDING_ROLES,
    "listening.triage": LEADER_ROLES | SAFEGUARDING_ROLES,
    # The governors' report (counts only, never a name or a concern's words): for the governors who scrutinise,
    # the leaders who answer to them and the safeguarding leads whose figures it holds.
    "reporting.view": LEADER_ROLES | SAFEGUARDING_ROLES | GOVERNOR_ROLES,
}


def has_permission(user, school, permission: str) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    allowed = PERMISSIONS[permission]
    return bool(school.roles_of(user) & allowed)


def require_permission(user, school, permission: str) -> None:
    if not has_permission(user, school, permission):
        raise PermissionDenied(f"You do not have permission to do this at {school}.")


def has_role(user, school, role: str) -> bool:
    return user.is_authenticated and role in school.roles_of(user)


def permissions_for(user, school) -> dict[str, bool]:
    """Every permission as a flag, for templates to show or hide buttons without deciding anything."""
    return {name.replace(".", "_"): has_permission(user, school, name) for name in PERMISSIONS}
