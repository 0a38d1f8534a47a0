"""The access matrix: a world of two schools, every principal, and the expected answer of every URL pattern.

`EXPECTATIONS` is the one table: for each URL name, who may GET it and who may POST to it (a permission from
`schoolgate/schools/permissions.py`, or PUBLIC / LOGIN / ADMIN), which world objects fill its ids, and who may
change data through it. `url_patterns()` walks the URLconf itself, so a view added tomorrow has no row and the
matrix test fails until someone writes one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field

import httpx
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from schoolgate.schools.permissions import PERMISSIONS, has_permission
from schoolgate.schools.roles import Role

# Access kinds besides a permission name.
PUBLIC = "public"  # anyone, logged in or not
LOGIN = "login"  # any logged-in person; anonymous visitors are sent to the login page
ADMIN = "admin"  # the Django admin: superusers (staff) only; everyone else is sent to the admin login
ANON_PAGE = "anon-page"  # allauth's logged-out pages (log in, reset password): people already in are sent on
FLOW_STEP = "flow-step"  # a later step of a login (the code): without the earlier step, everyone is sent back
NOT_ALLOWED = None  # the method is refused (405) once the login check has passed
AS_GET = "as-get"  # a view with no method check: a POST is answered like a GET (and must write nothing)

# Outcomes, as the matrix writes them: a status code, or where a redirect goes.
OK_GET = frozenset({"200"})
OK_POST = frozenset({"200", "302"})
MFA_OK = frozenset({"200", "302", "404"})


@dataclass(frozen=True)
class Rule:
    """What one URL pattern answers.

    get/post: the access kind or the permission the view checks before anything else (at the school in the URL).
    ids: URL kwarg -> the kind of world object that fills it (a school's own objects, or another school's in the
        cross-school probes). fixed: URL kwargs that are not ids.
    writes: who may change data with the probe's POST: a permission, a set of roles, GATE (whoever passes
        `post`), or None (nobody: the probe body is refused for everyone). Everyone else must leave the database
        exactly as it was.
    login_first: the view asks for a login before it checks the method (login_required outside require_POST).
    """

    get: str | None = LOGIN
    post: str | None = AS_GET
    ids: dict = field(default_factory=dict)
    fixed: dict = field(default_factory=dict)
    ok_get: frozenset = OK_GET
    ok_post: frozenset = OK_POST
    writes: object = None
    data: dict = field(default_factory=dict)
    login_first: bool = True
    csrf_exempt: bool = False
    label: str = ""
    # Classes of marker text the page shows to whoever holds its secret link (a family sees its own child).
    token_reveals: tuple = ()
    # The world object whose owner alone may use it (a notification); anyone else gets a 404.
    owner: str = ""
    # Who passes the action's own check, past the view's gate (a set of roles, permissions, "author",
    # "authorised"); the others get `refused` (the action raises PermissionDenied: 403).
    acts: object = None
    refused: frozenset = frozenset({"403"})
    # Who may make the server call out (connecting an account); nobody else may cause an outbound request.
    outbound: object = None
    # Who may see this object on a GET once past the view's gate (a photo with undecided faces); others: 403.
    sees: object = None


GATE = "gate"
NOT_FOUND = frozenset({"404"})
# The readers of a concern about a pupil, and of the concern log (any kind of concern: the chair reads those
# about the headteacher) — concerns/access.py's defaults.
CONCERN_READERS = frozenset({Role.DSL, Role.DEPUTY_DSL, Role.HEADTEACHER})
CONCERN_LOG_READERS = CONCERN_READERS | {Role.CHAIR_OF_GOVERNORS}
# The readers of a concern about a member of staff: the headteacher and the DSL.
STAFF_CONCERN_READERS = frozenset({Role.HEADTEACHER, Role.DSL})
LEADERS = frozenset({Role.HEADTEACHER, Role.LEADERSHIP})
SAFEGUARDING = frozenset({Role.HEADTEACHER, Role.DSL, Role.DEPUTY_DSL})
# Declarations (declarations/access.py's defaults): relationships are reviewed by the DSL and deputies (the list is
# open to the headteacher too, who reviews where nobody else can); exceptions are read by the member, the
# headteacher (who decides) and the DSL (the list is open to the chair, who decides the headteacher's own).
RELATIONSHIP_REVIEWERS = frozenset({Role.DSL, Role.DEPUTY_DSL})
RELATIONSHIP_READERS = RELATIONSHIP_REVIEWERS | {"declarant"}
RELATIONSHIP_LIST = RELATIONSHIP_REVIEWERS | {Role.HEADTEACHER}
EXCEPTION_READERS = frozenset({Role.HEADTEACHER, Role.DSL, "declarant"})
EXCEPTION_LIST = frozenset({Role.HEADTEACHER, Role.DSL, Role.CHAIR_OF_GOVERNORS})
BAD_FORM = frozenset({"400"})
BACK = frozenset({"302"})
# Who moderates an inbox item: leaders and the safeguarding leads, and the staff authorised on its account.
INBOX_MODERATORS = frozenset({"inbox.moderate", "inbox_staff"})
# Who works an item (answers, triage, notes): the same people, through the answering permission.
INBOX_WORKERS = frozenset({"inbox.answer", "inbox_staff"})
# Who opens the inbox at all: leaders, the safeguarding leads, and staff authorised on any of the school's accounts.
INBOX_OPENERS = frozenset({"inbox.answer", "inbox_worker"})
# Who triages what listening finds: leaders, the safeguarding leads, and staff authorised on any of the accounts.
LISTENERS = frozenset({"listening.triage", "inbox_worker"})


def inbox_post(ok_post=BAD_FORM, ids=None, **kw) -> Rule:
    """An item's form: workers get past the action's check and the probe's empty form is refused (nothing written)
    unless `writes` says an empty form is a real decision (no one assigned, the contact forgotten)."""
    return post_only("school.view", ids=ids or {"pk": "inbox_item"}, acts=INBOX_WORKERS, ok_post=ok_post, **kw)


def school_view(**kw) -> Rule:
    return Rule(get="school.view", **kw)


def post_only(permission: str, **kw) -> Rule:
    return Rule(get=NOT_ALLOWED, post=permission, **kw)


# Every URL name (unnamed patterns by route). A list gives several probes of one pattern (say, each file kind).
EXPECTATIONS: dict[str, Rule | list[Rule]] = {
    "healthz": Rule(get=PUBLIC, login_first=False),
    # Home and notifications: not tied to one school.
    "home:index": Rule(get=LOGIN, ok_get=frozenset({"200", "302"})),
    "home:notifications": Rule(get=LOGIN),
    # Only the recipient can mark a notification read (another person's id is a 404, checked cross-user).
    "home:read_notification": post_only(LOGIN, ids={"pk": "notification"}, owner="notification_owner", writes=GATE),
    "home:dashboard": school_view(),
    # A trust's own pages: its administrators only; to anyone else (the host included) there is no such trust.
    "home:trust": Rule(get=LOGIN, ids={"pk": "trust"}, owner="trust_owner"),
    "home:trust_add_school": Rule(get=LOGIN, post=LOGIN, ids={"pk": "trust"}, owner="trust_owner"),
    "home:trust_leave": post_only(LOGIN, ids={"pk": "trust"}, owner="trust_owner", ok_post=BAD_FORM),
    # Schools
    "schools:members": school_view(post="school.manage_members", writes="school.manage_members"),
    "schools:remove_member": post_only(
        "school.manage_members", ids={"pk": "membership"}, writes="school.manage_members"
    ),
    "schools:closures": school_view(post="school.manage_closures", writes="school.manage_closures"),
    "schools:remove_closure": post_only(
        "school.manage_closures", ids={"pk": "closure"}, writes="school.manage_closures"
    ),
    "schools:details": Rule(get="school.manage_members", post="school.manage_members", writes=GATE),
    # Policy
    "policy:index": Rule(get="policy.view"),
    "policy:acknowledgements": Rule(get="policy.view_acknowledgements"),
    "policy:start_version": post_only("policy.draft", fixed={"kind": "social_media_policy"}, writes=GATE),
    "policy:version": Rule(get="policy.view", ids={"pk": "policy_version"}),
    "policy:edit": Rule(get="policy.draft", post="policy.draft", ids={"pk": "draft_version"}, writes=GATE),
    "policy:approve": [
        # Only the holder of the role named in the URL approves for it.
        post_only(
            "policy.view",
            ids={"pk": "draft_version"},
            fixed={"role": Role.HEADTEACHER},
            acts=frozenset({Role.HEADTEACHER}),
            writes=frozenset({Role.HEADTEACHER}),
            label="headteacher",
        ),
        post_only(
            "policy.view",
            ids={"pk": "draft_version"},
            fixed={"role": Role.CHAIR_OF_GOVERNORS},
            acts=frozenset({Role.CHAIR_OF_GOVERNORS}),
            writes=frozenset({Role.CHAIR_OF_GOVERNORS}),
            label="chair",
        ),
    ],
    # Anyone at the school acknowledges the policy in force for themselves.
    "policy:acknowledge": post_only("policy.view", ids={"pk": "policy_version"}, writes=GATE),
    "policy:pdf": Rule(get="policy.view", ids={"pk": "policy_version"}),
    "policy:public": Rule(get=PUBLIC, login_first=False),
    "policy:public_pdf": Rule(get=PUBLIC, login_first=False),
    "policy:public_kind": Rule(get=PUBLIC, login_first=False, fixed={"kind": "social_media_policy"}),
    "policy:public_kind_pdf": Rule(get=PUBLIC, login_first=False, fixed={"kind": "social_media_policy"}),
    # The guidance library: every member reads factsheets; leaders and the safeguarding leads write them (the
    # headteacher or the DSL approves, through policy:approve); governors and leaders see who has read them.
    "policy:library": Rule(get="policy.view"),
    "policy:new_factsheet": Rule(
        get="guidance.draft", post="guidance.draft", ok_post=frozenset({"302", "400"}), writes=GATE
    ),
    "policy:add_starter_factsheets": post_only("guidance.draft", writes=GATE),
    "policy:guidance_acknowledgements": Rule(get="training.view_records"),
    "policy:start_public_guidance": post_only("guidance.draft", writes=GATE),
    "policy:start_guidance_version": post_only("guidance.draft", ids={"pk": "factsheet"}, writes=GATE),
    "policy:edit_guidance": Rule(
        get="guidance.draft", post="guidance.draft", ids={"pk": "guidance_draft"}, writes=GATE
    ),
    "policy:public_guidance": Rule(get=PUBLIC, login_first=False),
    # Audit
    "audit:log": Rule(get="audit.view"),
    # Official accounts
    "official_accounts:list": school_view(),
    "official_accounts:propose": Rule(get="accounts.propose", post="accounts.propose", writes=GATE),
    "official_accounts:health": Rule(get="accounts.manage"),
    "official_accounts:detail": school_view(ids={"pk": "proposed_account"}),
    # The policy's approver (the headteacher here) decides proposals; the probe asks to approve one.
    "official_accounts:decide": post_only(
        "school.view",
        ids={"pk": "proposed_account"},
        data={"decision": "approve", "reason": "Fine by me."},
        acts=frozenset({Role.HEADTEACHER}),
        writes=frozenset({Role.HEADTEACHER}),
    ),
    "official_accounts:checklist": post_only("accounts.manage", ids={"pk": "account"}, writes=GATE),
    "official_accounts:staff": post_only("accounts.manage", ids={"pk": "account"}, writes=GATE),
    "official_accounts:store_login": post_only("accounts.escrow", ids={"pk": "account"}, writes=GATE),
    "official_accounts:reveal_login": Rule(
        get="accounts.escrow", post="accounts.escrow", ids={"pk": "account"}, writes=GATE
    ),
    # The probe offers a loopback service URL (allowed in tests): only the leaders and the account's
    # authorised staff may make the server call it; for anyone else it must not be called at all (SSRF).
    "official_accounts:connect": post_only(
        "school.view",
        ids={"pk": "account"},
        data={"handle": "school.test", "app_password": "abcd-efgh-ijkl-mnop", "service_url": "http://127.0.0.1:9/"},
        outbound=frozenset({"accounts.manage", "authorised"}),
    ),
    "official_accounts:oauth_start": post_only("school.view", ids={"pk": "account"}),
    "official_accounts:disconnect": post_only("accounts.manage", ids={"pk": "account"}, writes=GATE),
    # A callback without a connection attempt started in this session goes back home with a message.
    "official_accounts:oauth_callback": Rule(get=LOGIN, fixed={"network": "mastodon"}, ok_get=frozenset({"302"})),
    "official_accounts:public": Rule(get=PUBLIC, login_first=False),
    # Posts: every member may open the posts pages; what they may do to a post is decided by its actions.
    "posts:list": school_view(),
    "posts:new": school_view(post="school.view", writes=GATE),
    "posts:set_away": post_only("school.view", writes=GATE),
    "posts:takedowns": Rule(get="posts.take_down"),
    "posts:request_takedown": post_only("posts.take_down", ids={"pk": "published_post"}, writes=GATE),
    "posts:take_down": post_only("posts.take_down", ids={"pk": "published_post"}, writes=GATE),
    "posts:record_removal": post_only(
        "posts.take_down", ids={"pk": "published_post", "delivery_pk": "delivery"}, writes=GATE
    ),
    "posts:detail": school_view(ids={"pk": "draft_post"}),
    # Only the author edits or submits a draft; the probe's empty edit is refused for everyone.
    "posts:edit": school_view(post="school.view", ids={"pk": "draft_post"}),
    "posts:submit": post_only("school.view", ids={"pk": "draft_post"}, writes=frozenset({"author"})),
    # A refused review shows the form again (400); a recorded one goes back to the post.
    "posts:review": post_only(
        "school.view",
        ids={"pk": "review_post"},
        data={"decision": "approved"},
        ok_post=frozenset({"302", "400"}),
        writes="posts.review",
    ),
    "posts:withdraw": post_only(
        "school.view",
        ids={"pk": "review_post"},
        data={"reason": "Changed our minds"},
        writes=frozenset({"author", "accounts.manage"}),
    ),
    "posts:override": post_only(
        "school.view", ids={"pk": "review_post"}, data={"reason": "Checked by hand"}, writes=SAFEGUARDING
    ),
    "posts:retry_delivery": post_only(
        "school.view", ids={"pk": "published_post", "delivery_pk": "delivery"}, writes=LEADERS
    ),
    "posts:record_delivery": post_only(
        "school.view", ids={"pk": "published_post", "delivery_pk": "delivery"}, writes=LEADERS
    ),
    # Pupils
    "pupils:list": Rule(get="pupils.view"),
    "pupils:import": Rule(get="pupils.import", post="pupils.import", writes=GATE),
    "pupils:run": Rule(get="pupils.import", post="pupils.import", ids={"pk": "import_run"}, writes=GATE),
    "pupils:confirm": post_only("pupils.import", ids={"pk": "import_run"}, writes=GATE),
    "pupils:cancel": post_only("pupils.import", ids={"pk": "import_run"}, writes=GATE),
    "pupils:status": Rule(get="pupils.import", ids={"pk": "import_run"}),
    "pupils:coverage": Rule(get="pupils.view"),
    "pupils:consent": Rule(get="pupils.view", post="pupils.view", ids={"pk": "pupil"}, writes="pupils.consent"),
    "pupils:send_family_link": post_only("pupils.consent", ids={"pk": "pupil", "carer_pk": "carer"}, writes=GATE),
    "pupils:revoke_family_link": post_only(
        "pupils.consent", ids={"pk": "pupil", "link_pk": "family_link"}, writes=GATE
    ),
    # The family's own page: the token is the key; a POST with no answers changes nothing.
    "pupils:family": Rule(
        get=PUBLIC,
        post=PUBLIC,
        ids={"token": "family_token"},
        login_first=False,
        token_reveals=("pupil", "carer"),
        writes=GATE,
    ),
    # Media
    "media:library": school_view(),
    "media:upload": Rule(get="media.upload", post="media.upload", writes=GATE),
    # A photo whose faces are all decided is for every member; until then only for those who tag faces.
    "media:item": [
        school_view(ids={"pk": "media_item"}, label="ready"),
        school_view(ids={"pk": "undecided_item"}, sees="media.upload", label="undecided"),
    ],
    "media:add_face": post_only("media.upload", ids={"pk": "undecided_item"}, writes=GATE),
    "media:check_by_eye": post_only("media.upload", ids={"pk": "undecided_item"}, writes=GATE),
    "media:decide_face": post_only("media.upload", ids={"pk": "undecided_item", "face_pk": "face"}, writes=GATE),
    "media:delete": Rule(get="media.delete", post="media.delete", ids={"pk": "undecided_item"}, writes=GATE),
    "media:file": [
        school_view(ids={"pk": "media_item"}, fixed={"kind": "thumbnail"}, label="thumbnail"),
        school_view(
            ids={"pk": "undecided_item"}, fixed={"kind": "publishable"}, sees="media.upload", label="undecided"
        ),
        # The original as received (metadata and all) only for those who may delete photos; each download is
        # audited (a write, also on a POST).
        Rule(
            get="media.delete",
            ids={"pk": "media_item"},
            fixed={"kind": "original"},
            label="original",
            writes="media.delete",
        ),
    ],
    "media:signed_file": Rule(get=PUBLIC, ids={"token": "signed_token"}, login_first=False),
    # News: the public pages and feeds, and the leaders' subscriber counts.
    "news:index": Rule(get=PUBLIC, login_first=False),
    "news:item": Rule(get=PUBLIC, ids={"pk": "published_post"}, login_first=False),
    "news:image": Rule(get=PUBLIC, ids={"pk": "published_post", "image_pk": "post_image"}, login_first=False),
    "news:rss": Rule(get=PUBLIC, post=PUBLIC, login_first=False, ok_post=OK_GET),
    "news:atom": Rule(get=PUBLIC, post=PUBLIC, login_first=False, ok_post=OK_GET),
    "news:subscribe": Rule(get=PUBLIC, post=PUBLIC, login_first=False, ok_post=OK_GET),
    # GET only shows a button (mail scanners open links); the probe POSTs nothing else.
    "news:confirm": Rule(get=PUBLIC, post=PUBLIC, ids={"token": "subscriber_token"}, login_first=False, writes=GATE),
    "news:unsubscribe": Rule(
        get=PUBLIC,
        post=PUBLIC,
        ids={"token": "subscriber_token"},
        login_first=False,
        csrf_exempt=True,
        writes=GATE,
        ok_post=OK_GET,
    ),
    "news:subscribers": Rule(get="news.view_subscribers"),
    # Safeguarding concerns: everyone reports; a concern is read only by the roles its audience names (one
    # about a pupil: the DSL, the deputy and the headteacher), and anyone else gets a 404, so no one learns it
    # exists. The reporter sees only their receipt.
    "concerns:report": Rule(
        get="concerns.report", post="concerns.report", ok_post=frozenset({"302", "400"}), writes=GATE
    ),
    "concerns:mine": Rule(get="concerns.report"),
    "concerns:log": school_view(sees=CONCERN_LOG_READERS),
    "concerns:detail": school_view(
        ids={"pk": "concern"}, sees=CONCERN_READERS, acts=CONCERN_READERS, refused=NOT_FOUND, writes=CONCERN_READERS
    ),
    "concerns:receipt": school_view(
        ids={"pk": "concern"}, sees=frozenset({"reporter"}), acts=frozenset({"reporter"}), refused=NOT_FOUND
    ),
    "concerns:add_entry": school_view(
        post="school.view",
        ids={"pk": "concern"},
        sees=CONCERN_READERS,
        acts=CONCERN_READERS,
        refused=NOT_FOUND,
        ok_post=frozenset({"302", "400"}),
        writes=CONCERN_READERS,
    ),
    "concerns:evidence": school_view(
        ids={"pk": "concern", "evidence_pk": "evidence"},
        sees=CONCERN_READERS,
        acts=CONCERN_READERS,
        refused=NOT_FOUND,
        writes=CONCERN_READERS,
    ),
    # A staff subject's dates (for retention): the readers of that concern; the probe's empty form changes nothing.
    "concerns:staff_dates": post_only(
        "school.view",
        ids={"pk": "staff_concern", "subject_pk": "staff_subject_row"},
        acts=STAFF_CONCERN_READERS,
        refused=NOT_FOUND,
        ok_post=frozenset({"302", "400"}),
        writes=STAFF_CONCERN_READERS,
    ),
    # A person's chronology and its PDF: only over the concerns the reader reads (404 otherwise); each read is
    # audited (a write on GET).
    "concerns:pupil_chronology": school_view(
        post=NOT_ALLOWED, ids={"pk": "pupil"}, sees=CONCERN_READERS, refused=NOT_FOUND
    ),
    "concerns:pupil_chronology_pdf": school_view(
        post=NOT_ALLOWED, ids={"pk": "pupil"}, sees=CONCERN_READERS, refused=NOT_FOUND
    ),
    "concerns:staff_chronology": school_view(
        post=NOT_ALLOWED, ids={"pk": "staff_subject"}, sees=STAFF_CONCERN_READERS, refused=NOT_FOUND
    ),
    "concerns:staff_chronology_pdf": school_view(
        post=NOT_ALLOWED, ids={"pk": "staff_subject"}, sees=STAFF_CONCERN_READERS, refused=NOT_FOUND
    ),
    # The people with concerns and the retention list: for whoever reads some kind of concern, like the log.
    "concerns:people": school_view(post=NOT_ALLOWED, sees=CONCERN_LOG_READERS),
    "concerns:retention": school_view(post=NOT_ALLOWED, sees=CONCERN_LOG_READERS),
    # The concern settings: the headteacher and the DSL; the probe's empty form is refused (400).
    "concerns:settings": Rule(
        get="concerns.manage_settings",
        post="concerns.manage_settings",
        ok_post=frozenset({"302", "400"}),
        writes=GATE,
    ),
    # Training: everyone sees their own and records their own (a refused form is a 400); the records and the
    # overdue list are for leaders, the safeguarding leads and governors; leaders and the safeguarding leads keep
    # them. Declining a record needs a reason: the probe's empty one changes nothing.
    "training:mine": school_view(),
    "training:record_own": Rule(get="school.view", post="school.view", ok_post=frozenset({"302", "400"}), writes=GATE),
    "training:privacy_check": Rule(
        get="school.view", post="school.view", ok_post=frozenset({"302", "400"}), writes=GATE
    ),
    "training:overdue": Rule(get="training.view_records"),
    "training:records": Rule(get="training.view_records"),
    "training:attendance": Rule(
        get="training.manage", post="training.manage", ok_post=frozenset({"302", "400"}), writes=GATE
    ),
    "training:confirm": post_only("training.manage", ids={"pk": "pending_completion"}, writes=GATE),
    "training:decline": post_only("training.manage", ids={"pk": "pending_completion"}),
    "training:courses": Rule(get="training.view_records"),
    "training:new_course": Rule(
        get="training.manage", post="training.manage", ok_post=frozenset({"302", "400"}), writes=GATE
    ),
    "training:edit_course": Rule(
        get="training.manage",
        post="training.manage",
        ids={"pk": "course"},
        ok_post=frozenset({"302", "400"}),
        writes=GATE,
    ),
    "training:settings": Rule(
        get="training.manage", post="training.manage", ok_post=frozenset({"302", "400"}), writes=GATE
    ),
    # Staff declarations: every member declares for themselves (not the trust's administrators), and a member's
    # own records are theirs alone to change (anyone else: 404). A relationship is read by its declarant and the
    # reviewers (the DSL and deputies), an exception by the member, the headteacher and the DSL (anyone else: 404,
    # so nobody learns one exists); the headteacher alone decides an exception. Empty forms are refused (400).
    "declarations:mine": Rule(get="declarations.declare", post=NOT_ALLOWED),
    "declarations:annual": Rule(get="declarations.declare", post="declarations.declare", ok_post=BAD_FORM),
    "declarations:register": Rule(get="declarations.review", post=NOT_ALLOWED),
    "declarations:settings": Rule(get="declarations.configure", post="declarations.configure", ok_post=BAD_FORM),
    "declarations:add_account": Rule(get="declarations.declare", post="declarations.declare", ok_post=BAD_FORM),
    "declarations:edit_account": Rule(
        get="declarations.declare",
        post="declarations.declare",
        ids={"pk": "personal_account"},
        owner="declarant",
        ok_post=BAD_FORM,
    ),
    "declarations:withdraw_account": post_only(
        "declarations.declare", ids={"pk": "personal_account"}, owner="declarant", writes=frozenset({"declarant"})
    ),
    "declarations:relationships": school_view(post=NOT_ALLOWED, sees=RELATIONSHIP_LIST),
    "declarations:declare_relationship": Rule(
        get="declarations.declare", post="declarations.declare", ok_post=BAD_FORM
    ),
    "declarations:relationship": school_view(
        post=NOT_ALLOWED, ids={"pk": "relationship"}, sees=RELATIONSHIP_READERS, refused=NOT_FOUND
    ),
    # A reviewer's refused review shows the declaration again, and that read is audited (a write).
    "declarations:review_relationship": post_only(
        "school.view",
        ids={"pk": "relationship"},
        acts=RELATIONSHIP_REVIEWERS,
        refused=frozenset({"403", "404"}),
        ok_post=BAD_FORM,
        writes=RELATIONSHIP_REVIEWERS,
    ),
    "declarations:withdraw_relationship": post_only(
        "declarations.declare", ids={"pk": "relationship"}, owner="declarant", writes=frozenset({"declarant"})
    ),
    "declarations:exceptions": school_view(post=NOT_ALLOWED, sees=EXCEPTION_LIST),
    "declarations:request_exception": Rule(get="declarations.declare", post="declarations.declare", ok_post=BAD_FORM),
    "declarations:exception": school_view(
        post=NOT_ALLOWED, ids={"pk": "contact_exception"}, sees=EXCEPTION_READERS, refused=NOT_FOUND
    ),
    "declarations:decide_exception": post_only(
        "school.view",
        ids={"pk": "contact_exception"},
        data={
            "decision": "approve",
            "reason": "Agreed for the team's fixtures.",
            "expires_on": (timezone.localdate() + dt.timedelta(days=20)).isoformat(),
        },
        acts=frozenset({Role.HEADTEACHER}),
        refused=frozenset({"403", "404"}),
        writes=frozenset({Role.HEADTEACHER}),
    ),
    "declarations:withdraw_exception": post_only(
        "declarations.declare", ids={"pk": "contact_exception"}, owner="declarant", writes=frozenset({"declarant"})
    ),
    # Inbox moderation (RS-ABU-1, AW-MOD-1): leaders, the safeguarding leads and the account's authorised staff;
    # the probe's empty form, a retry of a done action, the undo of a deletion and the approval of a reply that
    # is not held are all refused (back to the item, nothing written, the network never called).
    "inbox:moderate": post_only("school.view", ids={"pk": "inbox_item"}, acts=INBOX_MODERATORS, ok_post=BACK),
    "inbox:retry_moderation": post_only(
        "school.view",
        ids={"pk": "inbox_item", "action_pk": "moderation_action"},
        acts=INBOX_MODERATORS,
        ok_post=BACK,
    ),
    "inbox:undo_moderation": post_only(
        "school.view",
        ids={"pk": "inbox_item", "action_pk": "moderation_action"},
        acts=INBOX_MODERATORS,
        ok_post=BACK,
    ),
    "inbox:approve_held": post_only("school.view", ids={"pk": "inbox_item"}, acts=INBOX_MODERATORS, ok_post=BACK),
    "inbox:reject_held": post_only("school.view", ids={"pk": "inbox_item"}, acts=INBOX_MODERATORS, ok_post=BACK),
    # The inbox (RS-MON-1): the queue for those who work an account; an item for those who work its account (its
    # words are the "inbox" marker); settings and templates for the leaders; response times with the governors.
    "inbox:queue": school_view(post=NOT_ALLOWED, sees=INBOX_OPENERS),
    "inbox:item": school_view(post=NOT_ALLOWED, ids={"pk": "inbox_item"}, sees=INBOX_WORKERS),
    "inbox:settings": Rule(get="inbox.manage", post="inbox.manage", ok_post=frozenset({"302", "400"}), writes=GATE),
    "inbox:templates": Rule(get="inbox.manage", post="inbox.manage", ok_post=frozenset({"302", "400"}), writes=GATE),
    "inbox:response_times": Rule(get="inbox.report", post=NOT_ALLOWED),
    # The governors' report and its PDF: counts only, for governors, leaders and the safeguarding leads; each one
    # prepared is audited (a write on GET).
    "reporting:governors_report": Rule(get="reporting.view", post=NOT_ALLOWED),
    "reporting:governors_report_pdf": Rule(get="reporting.view", post=NOT_ALLOWED),
    "inbox:reply": inbox_post(),
    # A sent reply: deciding on it, retrying it or withdrawing it is refused (nothing written).
    "inbox:decide_reply": inbox_post(BACK, ids={"pk": "inbox_item", "reply_pk": "inbox_reply"}),
    "inbox:retry_reply": inbox_post(ids={"pk": "inbox_item", "reply_pk": "inbox_reply"}),
    "inbox:withdraw_reply": inbox_post(ids={"pk": "inbox_item", "reply_pk": "inbox_reply"}),
    "inbox:confirm_sent": inbox_post(BACK, ids={"pk": "inbox_item", "reply_pk": "inbox_reply"}),
    "inbox:set_category": inbox_post(),
    "inbox:assign": inbox_post(BACK, writes=INBOX_WORKERS),
    "inbox:add_note": inbox_post(),
    "inbox:set_contact": inbox_post(BACK, writes=INBOX_WORKERS),
    "inbox:close": inbox_post(),
    "inbox:reopen": inbox_post(),
    "inbox:answered_elsewhere": inbox_post(),
    "inbox:pass_to_dsl": inbox_post(BACK),
    # Meta's webhook: no login and no CSRF token (Meta signs the body); without the verify token or a valid
    # signature it is refused, and nothing is stored.
    "inbox:meta_webhook": Rule(
        get=PUBLIC,
        post=PUBLIC,
        login_first=False,
        csrf_exempt=True,
        ok_get=frozenset({"403"}),
        ok_post=frozenset({"403"}),
    ),
    # Listening (RS-WATCH-1): leaders and the safeguarding leads configure; they and staff authorised on an account
    # triage (the mention's words are the "inbox" marker). The probes' empty forms are refused (nothing written).
    "listening:mentions": school_view(post=NOT_ALLOWED, sees=LISTENERS),
    "listening:coverage": school_view(post=NOT_ALLOWED, sees=LISTENERS),
    "listening:mention": school_view(post=NOT_ALLOWED, ids={"pk": "mention"}, sees=LISTENERS),
    "listening:digest": post_only("school.view", acts=LISTENERS, writes=LISTENERS, ok_post=BACK),
    "listening:decide": post_only("school.view", ids={"pk": "mention"}, acts=LISTENERS, ok_post=BACK),
    "listening:to_inbox": post_only("school.view", ids={"pk": "mention"}, acts=LISTENERS, ok_post=BACK),
    "listening:raise_concern": post_only("school.view", ids={"pk": "mention"}, acts=LISTENERS, ok_post=BACK),
    "listening:sources": Rule(get="listening.configure", post="listening.configure", ok_post=BAD_FORM),
    "listening:edit_source": Rule(
        get="listening.configure", post="listening.configure", ids={"pk": "listening_source"}, ok_post=BAD_FORM
    ),
    "listening:pause_source": post_only(
        "listening.configure", ids={"pk": "listening_source"}, writes=GATE, ok_post=BACK
    ),
    "listening:resume_source": post_only(
        "listening.configure", ids={"pk": "listening_source"}, writes=GATE, ok_post=BACK
    ),
    "listening:remove_source": post_only(
        "listening.configure", ids={"pk": "listening_source"}, writes=GATE, ok_post=BACK
    ),
    "listening:keywords": Rule(get="listening.configure", post="listening.configure", ok_post=BAD_FORM),
    "listening:remove_keyword": post_only(
        "listening.configure", ids={"pk": "listening_keyword"}, writes=GATE, ok_post=BACK
    ),
}

# allauth's pages. Logged-out pages send people who are already in onwards; the rest need a login.
ALLAUTH = {
    "account_login": Rule(get=ANON_PAGE, post=ANON_PAGE, login_first=False),
    "account_logout": Rule(
        get=LOGIN, post=PUBLIC, ok_get=frozenset({"200", "302"}), ok_post=frozenset({"302", "login"})
    ),
    "account_inactive": Rule(get=PUBLIC, post=NOT_ALLOWED, login_first=False),
    # Self sign-up is closed: schools add their own people.
    "account_signup": Rule(get=ANON_PAGE, post=ANON_PAGE, login_first=False),
    "account_reauthenticate": Rule(get=LOGIN, post=LOGIN),
    "account_email": Rule(get=LOGIN, post=LOGIN),
    "account_email_verification_sent": Rule(get=PUBLIC, post=NOT_ALLOWED, login_first=False),
    "account_change_password": Rule(get=LOGIN, post=LOGIN),
    "account_set_password": Rule(get=LOGIN, post=LOGIN, ok_get=frozenset({"200", "302"})),
    "account_reset_password": Rule(get=PUBLIC, post=PUBLIC, login_first=False),
    # Steps of a login in progress: without one (a password just accepted) they send everyone back.
    "account_confirm_login_code": Rule(get=FLOW_STEP, post=FLOW_STEP, login_first=False),
    "account_confirm_email": Rule(
        get=PUBLIC, post=PUBLIC, fixed={"key": "no-such-key"}, login_first=False, ok_post=frozenset({"404"})
    ),
    "account_reset_password_from_key_done": Rule(get=PUBLIC, post=NOT_ALLOWED, login_first=False),
    "account_reset_password_from_key": Rule(
        get=PUBLIC, post=PUBLIC, fixed={"uidb36": "1", "key": "no-such-key"}, login_first=False
    ),
    "account_reset_password_done": Rule(get=PUBLIC, post=NOT_ALLOWED, login_first=False),
    "mfa_index": Rule(get=LOGIN, post=NOT_ALLOWED),
    "mfa_authenticate": Rule(get=FLOW_STEP, post=FLOW_STEP, login_first=False),
    # Asking for the code again: those without an authenticator are sent to the password step instead.
    "mfa_reauthenticate": Rule(get=LOGIN, post=LOGIN, ok_get=frozenset({"200", "302"})),
    # Setting up, removing and the recovery codes ask for a fresh code first (302), or there is nothing (404).
    "mfa_activate_totp": Rule(get=LOGIN, post=LOGIN, ok_get=frozenset({"200", "302"})),
    "mfa_deactivate_totp": Rule(get=LOGIN, post=LOGIN, ok_get=frozenset({"200", "302", "404"}), ok_post=MFA_OK),
    "mfa_view_recovery_codes": Rule(get=LOGIN, ok_get=MFA_OK, post=NOT_ALLOWED),
    "mfa_generate_recovery_codes": Rule(get=LOGIN, post=LOGIN, ok_get=frozenset({"200", "302"})),
    "mfa_download_recovery_codes": Rule(get=LOGIN, ok_get=MFA_OK),
}
EXPECTATIONS.update(ALLAUTH)

# The Django admin answers the same way for every model: superusers only. Its patterns are named
# "admin:<app>_<model>_<view>"; new models are covered by these suffixes, new admin views are not.
ADMIN_SUFFIXES = ("_changelist", "_add", "_history", "_delete", "_change", "_password_change")
ADMIN_NAMED = {
    "admin:index",
    "admin:password_change",
    "admin:password_change_done",
    "admin:autocomplete",
    "admin:jsi18n",
    "admin:view_on_site",
    "admin:app_list",
}
ADMIN_RULE = Rule(
    get=ADMIN,
    post=ADMIN,
    ok_get=frozenset({"200", "302", "403", "404"}),
    ok_post=frozenset({"200", "302", "403", "404", "405"}),
    writes=GATE,
    login_first=False,
)
# The admin's login page sends everyone to the one login form (with its second factor and throttling); a
# superuser already in goes on to the admin, anyone else logged in is refused rather than looped.
ADMIN_DOOR = "admin-door"
ADMIN_LOGIN_RULE = Rule(get=ADMIN_DOOR, post=ADMIN_DOOR, login_first=False)
# Logging out is a POST (GET: 405 for a superuser; anyone else is sent on).
ADMIN_LOGOUT_RULE = Rule(
    get=PUBLIC, post=PUBLIC, ok_get=frozenset({"302", "405"}), ok_post=frozenset({"200", "302"}), login_first=False
)


@dataclass(frozen=True)
class Pattern:
    key: str  # URL name, or "<route>" for an unnamed pattern
    route: str
    pattern: object


def url_patterns() -> list[Pattern]:
    """Every pattern in the URLconf, allauth's and the admin's included, with its namespaced name."""

    def walk(patterns, prefix: str, namespace: str | None):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                inner = namespace
                if entry.namespace:
                    inner = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
                yield from walk(entry.url_patterns, prefix + str(entry.pattern), inner)
            elif isinstance(entry, URLPattern):
                route = prefix + str(entry.pattern)
                name = f"{namespace}:{entry.name}" if namespace and entry.name else entry.name
                key = name or f"<{route}>"
                yield Pattern(key=key, route=route, pattern=entry)

    return list(walk(get_resolver().url_patterns, "", None))


def rules_for(key: str) -> list[Rule] | None:
    if key in EXPECTATIONS:
        rule = EXPECTATIONS[key]
        return rule if isinstance(rule, list) else [rule]
    if key in ("admin:login", "admin_login"):
        return [ADMIN_LOGIN_RULE]
    if key == "admin:logout":
        return [ADMIN_LOGOUT_RULE]
    if key in ADMIN_NAMED or (key.startswith("admin:") and key.endswith(ADMIN_SUFFIXES)):
        return [ADMIN_RULE]
    # The admin's unnamed patterns: its object-id redirect and the catch-all.
    if key.startswith("<admin/"):
        return [ADMIN_RULE]
    return None


# --- the world -----------------------------------------------------------------------------------------------

# Marker classes: who may see text of this class, at the school it belongs to.
VISIBLE_TO = {
    # Staff tag faces, so they see pupil names in the tagging list; volunteers and governors never do.
    "pupil": ("pupils.view", "media.upload"),
    "carer": ("pupils.view",),
    "draft": ("school.view",),
    "account": ("school.view",),
    "restricted": ("audit.view_restricted",),
    "escrow": (),
    # What a concern says: its readers, and the member of staff who reported it.
    "concern": (*CONCERN_READERS, "reporter"),
    # What a concern about a member of staff says: the headteacher and the DSL (who reported it).
    "staffconcern": tuple(STAFF_CONCERN_READERS),
    # A member's personal account: the member, and the keepers of the declarations register.
    "handle": ("declarations.review", "declarant"),
    # A relationship with a pupil's family: its declarant and the reviewers.
    "relationship": (*RELATIONSHIP_REVIEWERS, "declarant"),
    # A request for contact on a personal account: the member, the headteacher and the DSL.
    "exception": (Role.HEADTEACHER, Role.DSL, "declarant"),
    # A "no" on the annual declaration: only the readers of the concern it opens (about staff: head and DSL).
    "explanation": (Role.HEADTEACHER, Role.DSL),
    # What a comment on an official account says: those who work the account's inbox.
    "inbox": ("inbox.answer", "inbox_worker"),
}


def marker(school_key: str, kind: str) -> str:
    return f"Zq{school_key}{kind.capitalize()}Mark"


@dataclass
class Principal:
    name: str
    user: object  # None for the anonymous visitor
    home: str  # the school key the person belongs to ("a" when they belong to none)


@dataclass
class World:
    schools: dict  # key -> School
    casts: dict  # key -> Cast
    objects: dict  # key -> {kind: value}
    principals: list
    markers: list  # (school key, class, text)
    users_by_email: dict = field(default_factory=dict)
    baseline: dict = field(default_factory=dict)  # fingerprint() of the world as built
    files: object = None  # Files
    outbound: object = None  # OutboundRecorder


# The admin's own check (is_staff, then the model permission) never looks at school roles, so its ~150
# patterns are probed by one principal of each kind rather than by every role.
ADMIN_PROBERS = {"anonymous", "head", "volunteer", "trust_admin", "other_school_head", "superuser"}


def _make_account(school, *, name, by, status, staff=()):
    from schoolgate.official_accounts.models import OfficialAccount

    account = OfficialAccount.objects.create(
        school=school,
        name=name,
        network="bluesky",
        handle="school.test",
        registration_email="news@example.org",
        aim="News",
        intended_audience="Families",
        promotion="Newsletter",
        visibility="open",
        objectives="Engagement",
        intended_outcomes="Informed families",
        risks="Replies",
        likelihood="low",
        mitigations="Monitoring",
        proposed_by=by,
        proposed_at=timezone.now(),
        status=status,
    )
    account.authorised_staff.set(staff)
    return account


def _png() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def _subscriber_token(school) -> str:
    from schoolgate.news import actions as news_actions
    from schoolgate.news.models import DigestSubscriber

    subscriber = news_actions.subscribe(school, email=f"family@{school.slug}.example")
    token = getattr(subscriber, "raw_token", None) or getattr(subscriber, "token", None)
    if not token or len(token) == 64 and "token_hash" in {f.name for f in DigestSubscriber._meta.fields}:
        raise RuntimeError("Cannot learn a digest subscriber's token: update the access matrix's world")
    return token


def _populate(key: str, cast) -> dict:
    """One school's objects: each kind of thing a URL can name, with marker text where a role may not see it."""
    from schoolgate.audit import actions as audit
    from schoolgate.concerns import actions as concern_actions
    from schoolgate.declarations import actions as declaration_actions
    from schoolgate.inbox.models import InboxItem, ModerationAction, Reply
    from schoolgate.media import actions as media_actions
    from schoolgate.media.models import signed_link
    from schoolgate.media.tests.photos import jpeg_with_everything
    from schoolgate.notifications.models import Notification
    from schoolgate.official_accounts import actions as account_actions
    from schoolgate.official_accounts.models import AccountStatus
    from schoolgate.policy import actions as policy_actions
    from schoolgate.posts.models import Delivery, DeliveryStatus, Post, PostImage, PostStatus, Takedown
    from schoolgate.pupils import actions as pupil_actions
    from schoolgate.pupils.models import Carer, CarerLink, ConsentChannel, ConsentDecision, ConsentUse, Pupil
    from schoolgate.schools.models import Closure
    from schoolgate.training import actions as training_actions

    school, now = cast.school, timezone.now()
    pupil = Pupil.objects.create(
        school=school,
        upn=f"{key.upper()}100",
        legal_forename="Ada",
        legal_surname=marker(key, "pupil"),
        year_group="Year 3",
        registration_group="3A",
    )
    carer = Carer.objects.create(school=school, full_name=marker(key, "carer"), email=f"carer@{school.slug}.example")
    CarerLink.objects.create(carer=carer, pupil=pupil, parental_responsibility=True, relationship="Parent")
    # A real consent decision, through the action: it is audited as the app audits it.
    pupil_actions.record_consents(
        pupil,
        by=cast.head,
        uses=[ConsentUse.WEBSITE_PHOTO],
        decision=ConsentDecision.REFUSED,
        given_by=carer,
        channel=ConsentChannel.PAPER,
        decided_on=timezone.localdate(),
    )
    family_link, family_token = pupil_actions.create_family_link(carer, by=cast.head)

    account = _make_account(
        school, name=f"{school.name} news", by=cast.head, status=AccountStatus.APPROVED, staff=[cast.alice, cast.head]
    )
    proposed = _make_account(school, name=marker(key, "account"), by=cast.alice, status=AccountStatus.PROPOSED)
    account_actions.store_login(account, by=cast.head, login="office@example.org", password=marker(key, "escrow"))

    draft = Post.objects.create(school=school, author=cast.alice, text=f"Trip news {marker(key, 'draft')}")
    draft.accounts.set([account])
    in_review = Post.objects.create(
        school=school, author=cast.alice, text="Sports day is on Friday.", status=PostStatus.IN_REVIEW, submitted_at=now
    )
    in_review.accounts.set([account])
    published_at = now - dt.timedelta(hours=1)
    published = Post.objects.create(
        school=school,
        author=cast.alice,
        text=f"{school.name}: our harvest festival.",
        status=PostStatus.PUBLISHED,
        published_at=published_at,
    )
    published.accounts.set([account])
    delivery = Delivery.objects.create(
        post=published,
        account=account,
        status=DeliveryStatus.PUBLISHED,
        created_at=published_at,
        due_at=published_at,
        published_at=published_at,
        text=published.text,
        url="https://bsky.app/profile/school.test/post/3abc",
        remote_id=f"at://did:plc:school/app.bsky.feed.post/{key}",
    )
    takedown = Takedown.objects.create(
        post=published, reason="Consent withdrawn", requested_at=now, requested_by=cast.head, due_at=now
    )
    inbox_item = InboxItem.objects.create(
        school=school,
        account=account,
        remote_id=f"at://did:plc:parent/app.bsky.feed.post/{key}",
        kind="reply",
        parent_remote_id=delivery.remote_id,
        root_remote_id=delivery.remote_id,
        author_remote_id="did:plc:parent",
        author_handle="parent.test",
        text=f"When is the harvest festival? {marker(key, 'inbox')}",
        received_at=now,
        ingested_at=now,
        suggested_category="query",
        category="query",
    )
    # A deletion already carried out: it can be neither retried nor undone, so its probes write nothing.
    moderation_action = ModerationAction.objects.create(
        item=inbox_item, kind="delete", reason="Spam", by=cast.head, at=now, status="done"
    )
    # A reply already sent: it can be neither decided on, retried nor withdrawn.
    inbox_reply = Reply.objects.create(
        item=inbox_item,
        kind="answer",
        text="On the 3rd.",
        written_by=cast.alice,
        written_at=now,
        status="sent",
        key=f"reply-access-{key}@{now.isoformat()}",
        sent_at=now,
    )

    def photo():
        return media_actions.upload_media(
            school,
            by=cast.alice,
            file=SimpleUploadedFile("photo.jpg", jpeg_with_everything(), "application/octet-stream"),
            source="Taken by staff on a school device",
            photographer="Alice Staff",
            licence="school_owned",
        )

    # One photo ready to use (its one face decided), one with a face nobody has decided yet.
    item = photo()
    media_actions.mark_not_pupil(
        media_actions.add_face(item, by=cast.alice, box=(0.1, 0.1, 0.3, 0.3)), by=cast.alice, note="Mr Jones"
    )
    item.refresh_from_db()
    undecided = photo()
    face = media_actions.add_face(undecided, by=cast.alice, box=(0.1, 0.1, 0.3, 0.3))
    post_image = PostImage.objects.create(post=published, media_item=item, alt_text="The hall")

    run = pupil_actions.validate_import(
        school,
        by=cast.head,
        kind="pupils",
        filename="export.csv",
        data=b"UPN,Legal forename,Legal surname,Year group\nX1,Bea,Jones,Year 4\n",
    )
    draft_version = policy_actions.start_new_version(cast.policy.document, by=cast.head)
    guidance_draft = policy_actions.create_factsheet(
        school, by=cast.head, title="Privacy settings", text="Friends only."
    )
    training_actions.ensure_defaults(school)
    pending_completion = training_actions.record_own_completion(
        school.courses.get(kind="induction"), by=cast.alice, completed_on=timezone.localdate()
    )
    closure = Closure.objects.create(
        school=school, starts_on=timezone.localdate(), ends_on=timezone.localdate(), label="INSET day"
    )
    notification = Notification.objects.create(
        user=cast.head, school=school, subject="A post waits for you", body="Please look.", send_email=False
    )
    concern = concern_actions.report_concern(
        school,
        by=cast.alice,
        category="pupil_conduct",
        text=f"What I saw online: {marker(key, 'concern')}",
        happened_on=timezone.localdate(),
        where_kind="online_other",
        pupils=[pupil],
        files=[SimpleUploadedFile("screenshot.png", _png(), "image/png")],
    )
    # A concern about a member of staff (Bob), for the staff chronology: read by the headteacher and the DSL only.
    staff_concern = concern_actions.report_concern(
        school,
        by=cast.dsl,
        category="staff_conduct",
        text=f"A post by a colleague: {marker(key, 'staffconcern')}",
        happened_on=timezone.localdate(),
        where_kind="personal_account",
        staff=[cast.bob],
    )
    # Alice's declarations: a personal account, a relationship, a request for contact, and a "no" to the annual
    # declaration (which opens a concern about her).
    personal_account = declaration_actions.declare_personal_account(
        school,
        by=cast.alice,
        network="instagram",
        handle=f"@{marker(key, 'handle')}",
        mention="My bio names the school",
        disclaimer_confirmed=True,
    )
    relationship = declaration_actions.declare_relationship(
        school, by=cast.alice, kind="family", text=f"My niece {marker(key, 'relationship')} is in Year 4"
    )
    contact_exception = declaration_actions.request_exception(
        school,
        by=cast.alice,
        network="whatsapp",
        contact_kind="carer",
        who=marker(key, "exception"),
        reason=f"I coach her son's team: {marker(key, 'exception')}",
        needed_until=timezone.localdate() + dt.timedelta(days=30),
    )
    declared_no = declaration_actions.make_annual_declaration(
        school, by=cast.alice, answer="no", explanation=f"I follow {marker(key, 'explanation')}"
    )
    audit.log(
        "safeguarding.concern_noted",
        actor=cast.dsl,
        school=school,
        detail={"note": marker(key, "restricted")},
        restricted=True,
    )
    return {
        "pupil": pupil.pk,
        "carer": carer.pk,
        "family_link": family_link.pk,
        "family_token": family_token,
        "account": account.pk,
        "proposed_account": proposed.pk,
        "draft_post": draft.pk,
        "review_post": in_review.pk,
        "published_post": published.pk,
        "delivery": delivery.pk,
        "takedown": takedown.pk,
        "inbox_item": inbox_item.pk,
        "moderation_action": moderation_action.pk,
        "inbox_reply": inbox_reply.pk,
        "media_item": item.pk,
        "undecided_item": undecided.pk,
        "face": face.pk,
        "post_image": post_image.pk,
        "signed_token": signed_link(item).rstrip("/").rsplit("/", 1)[-1],
        "import_run": run.pk,
        "policy_version": cast.policy.pk,
        "draft_version": draft_version.pk,
        "factsheet": guidance_draft.document_id,
        "guidance_draft": guidance_draft.pk,
        "course": pending_completion.course_id,
        "pending_completion": pending_completion.pk,
        "closure": closure.pk,
        "membership": cast.school.memberships.get(user=cast.volunteer).pk,
        "notification": notification.pk,
        "notification_owner": cast.head.pk,
        "subscriber_token": _subscriber_token(school),
        "concern": concern.pk,
        "evidence": concern.evidence.get().pk,
        "staff_concern": staff_concern.pk,
        "staff_subject": cast.bob.pk,
        "staff_subject_row": staff_concern.subjects.get().pk,
        "declarant": cast.alice.pk,
        "personal_account": personal_account.pk,
        "relationship": relationship.pk,
        "contact_exception": contact_exception.pk,
        "declaration_concern": declared_no.concern_id,
        **_listening(key, cast),
    }


def _listening(key: str, cast) -> dict:
    """A watched source, a keyword and a mention whose words carry the inbox marker (the same people read them)."""
    from schoolgate.listening.models import Keyword, Mention, Source

    source = Source.objects.create(school=cast.school, kind="rss", name="Gazette", url="https://gazette.example/feed")
    keyword = Keyword.objects.create(school=cast.school, text="Matrix school")
    mention = Mention.objects.create(
        school=cast.school,
        source=source,
        dedupe_key=f"https://gazette.example/{key}",
        text_hash=key * 8,
        url=f"https://gazette.example/{key}",
        text=f"Matrix school in the news {marker(key, 'inbox')}",
    )
    return {"listening_source": source.pk, "listening_keyword": keyword.pk, "mention": mention.pk}


def build_world() -> World:
    """Two schools (A in a trust, B not), every role at each, their objects, and the principals who probe."""
    from schoolgate.schools.models import Trust
    from schoolgate.testing import make_school, make_user

    casts = {
        "a": make_school("Applebee Matrix", slug="matrix-a"),
        "b": make_school("Birchwood Matrix", slug="matrix-b"),
    }
    trust = Trust.objects.create(name="Matrix Trust")
    casts["a"].school.trust = trust
    casts["a"].school.save(update_fields=["trust"])
    trust_admin = make_user("Tess Trust", totp=True)
    trust.admins.add(trust_admin)
    superuser = make_user("Sue Super", totp=True)
    superuser.is_superuser = superuser.is_staff = True
    superuser.save(update_fields=["is_superuser", "is_staff"])
    objects = {key: _populate(key, cast) for key, cast in casts.items()}
    # B is in no trust: its probe of the trust pages uses a trust with no administrator (and so no owner).
    objects["a"] |= {"trust": trust.pk, "trust_owner": trust_admin.pk}
    objects["b"] |= {"trust": Trust.objects.create(name="Matrix Trust without admins").pk, "trust_owner": 0}
    for cast in casts.values():
        cast.school.concern_reporter_pk = cast.alice.pk  # who may read their own concern's words (VISIBLE_TO)
        cast.school.declarant_pk = cast.alice.pk  # who made the world's declarations (VISIBLE_TO)
        cast.school.inbox_worker_pks = {cast.alice.pk, cast.head.pk}  # authorised on the school's account
    a, b = casts["a"], casts["b"]
    principals = [
        Principal("head", a.head, "a"),
        Principal("dsl", a.dsl, "a"),
        Principal("deputy_dsl", a.deputy_dsl, "a"),
        Principal("leader", a.leader, "a"),
        Principal("staff", a.alice, "a"),
        Principal("volunteer", a.volunteer, "a"),
        Principal("governor", a.governor, "a"),
        Principal("chair", a.chair, "a"),
        Principal("trust_admin", trust_admin, "a"),
        Principal("anonymous", None, "a"),
        # A member of another school only: B's headteacher, the strongest role there.
        Principal("other_school_head", b.head, "b"),
        Principal("superuser", superuser, "a"),
    ]
    markers = [(key, kind, marker(key, kind)) for key in casts for kind in VISIBLE_TO]
    users = {u.email: u for cast in casts.values() for u in cast.everyone()} | {
        trust_admin.email: trust_admin,
        superuser.email: superuser,
    }
    return World(
        schools={k: c.school for k, c in casts.items()},
        casts=casts,
        objects=objects,
        principals=principals,
        markers=markers,
        users_by_email=users,
    )


# --- expectations ------------------------------------------------------------------------------------------


def passes(access: str | None, principal: Principal, school, *, author=None) -> bool:
    user = principal.user
    if access == PUBLIC:
        return True
    if user is None:
        return False
    if access in (LOGIN, NOT_ALLOWED):
        return True
    if access == ADMIN:
        return user.is_superuser
    if access == ANON_PAGE:
        return False
    return school is not None and has_permission(user, school, access)


def expected(
    rule: Rule, method: str, principal: Principal, school, *, owner_mismatch: bool = False, objects: dict | None = None
) -> frozenset:
    """The outcomes this principal may get for this method at this school."""
    if method == "POST" and rule.post == AS_GET:
        return expected(rule, "GET", principal, school, owner_mismatch=owner_mismatch, objects=objects)
    access = rule.get if method == "GET" else rule.post
    ok = rule.ok_get if method == "GET" else rule.ok_post
    past_gate = passes(access, principal, school)
    if (
        method == "POST"
        and rule.acts is not None
        and past_gate
        and not holds(rule.acts, principal, school, objects or {}, rule)
    ):
        return rule.refused
    if (
        method == "GET"
        and rule.sees is not None
        and past_gate
        and not holds(rule.sees, principal, school, objects or {}, rule)
    ):
        return rule.refused
    user = principal.user
    if access == ANON_PAGE:
        return ok if user is None else frozenset({"302"})
    if access == ADMIN:
        return ok if user is not None and user.is_superuser else frozenset({"admin-login"})
    if access == FLOW_STEP:
        return frozenset({"302", "login"})
    if access == ADMIN_DOOR:
        if user is None:
            return frozenset({"login"})
        return frozenset({"302"}) if user.is_superuser else frozenset({"403"})
    if access is NOT_ALLOWED:
        return frozenset({"login"}) if (user is None and rule.login_first) else frozenset({"405"})
    if access == PUBLIC:
        return ok
    if user is None:
        return frozenset({"login"})
    if access == LOGIN or has_permission(user, school, access):
        return ok if not owner_mismatch else frozenset({"404"})
    return frozenset({"403"})


def holds(spec, principal: Principal, school, objects: dict, rule: Rule) -> bool:
    """Whether the principal matches a who-may spec: GATE, a permission, or a set of roles / permissions /
    "author" (of the post in the URL) / "authorised" (on the account in the URL)."""
    if spec is None:
        return False
    if spec == GATE:
        post = rule.get if rule.post == AS_GET else rule.post
        return passes(post, principal, school)
    user = principal.user
    if user is None or school is None:
        return False
    if isinstance(spec, str):
        return has_permission(user, school, spec)
    if "author" in spec:
        from schoolgate.posts.models import Post

        if Post.objects.filter(pk=objects.get(rule.ids.get("pk")), author=user).exists():
            return True
    if "reporter" in spec:
        from schoolgate.concerns.models import Concern

        if Concern.objects.filter(pk=objects.get(rule.ids.get("pk")), reported_by=user).exists():
            return True
    if "declarant" in spec and user.pk == objects.get("declarant"):
        return True
    if "authorised" in spec:
        from schoolgate.official_accounts.models import OfficialAccount

        if OfficialAccount.objects.filter(pk=objects.get(rule.ids.get("pk")), authorised_staff=user).exists():
            return True
    if "inbox_worker" in spec:
        from schoolgate.official_accounts.models import OfficialAccount

        if OfficialAccount.objects.approved().filter(school=school, authorised_staff=user).exists():
            return True
    if "inbox_staff" in spec:
        from schoolgate.inbox.models import InboxItem

        if InboxItem.objects.filter(pk=objects.get(rule.ids.get("pk")), account__authorised_staff=user).exists():
            return True
    roles = school.roles_of(user)
    return any(
        (item in PERMISSIONS and has_permission(user, school, item)) or item in roles
        for item in spec
        if item not in {"author", "authorised", "inbox_staff", "inbox_worker", "reporter", "declarant"}
    )


def may_write(rule: Rule, principal: Principal, school, objects: dict) -> bool:
    return holds(rule.writes, principal, school, objects, rule)


def outcome(response) -> str:
    if response.status_code in (301, 302, 303, 307, 308):
        location = response.headers.get("Location", "")
        path = location.split("://", 1)[-1]
        path = path[path.find("/") :] if "://" in location else path
        if path.startswith("/accounts/login/"):
            return "login"
        if path.startswith("/admin/login/"):
            return "admin-login"
        if path.startswith("/accounts/2fa/"):
            return "mfa"
        return "302"
    return str(response.status_code)


def allowed_to_see(principal: Principal, kind: str, marker_school, url_school, *, admin_page: bool) -> bool:
    """May this principal read text of this class from that school, on a page of `url_school`?"""
    if principal.user is not None and principal.user.is_superuser and admin_page:
        return True  # the hosting superuser's admin shows every record (see the report: issue 11, item 10)
    if url_school is not None and url_school.pk != marker_school.pk:
        return False  # nothing of another school on a school's pages, whoever asks
    if principal.user is None:
        return False
    roles = marker_school.roles_of(principal.user)
    return any(
        (item in PERMISSIONS and has_permission(principal.user, marker_school, item))
        or item in roles
        or (item == "reporter" and principal.user.pk == marker_school.concern_reporter_pk)
        or (item == "declarant" and principal.user.pk == marker_school.declarant_pk)
        or (item == "inbox_worker" and principal.user.pk in marker_school.inbox_worker_pks)
        for item in VISIBLE_TO[kind]
    )


def leaks(text: str, world: World, principal: Principal, url_school, *, admin_page: bool = False) -> list[str]:
    found = []
    text = text.lower()  # a template may print a name in capitals
    for school_key, kind, mark in world.markers:
        if mark.lower() in text and not allowed_to_see(
            principal, kind, world.schools[school_key], url_school, admin_page=admin_page
        ):
            found.append(f"{kind} of school {school_key.upper()}")
    return found


# --- the database, before and after -------------------------------------------------------------------------

# Per-request bookkeeping, not data: sessions, caches, login timestamps, the worker's heartbeat.
VOLATILE_FIELDS = {"last_login", "last_used_at"}


def _tracked_models():
    skip = {"home.workerheartbeat"}
    return [
        model
        for model in apps.get_models()
        if model.__module__.startswith("schoolgate.") and model._meta.label_lower not in skip and model._meta.managed
    ]


def write_count():
    """How many rows this connection has written so far (one cheap query), or None where it cannot tell."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT total_changes()")
        elif connection.vendor == "postgresql":
            cursor.execute("SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) FROM pg_stat_xact_all_tables")
        else:
            return None
        return cursor.fetchone()[0]


def fingerprint() -> dict[str, str]:
    """A digest of every row of every Schoolgate table: equal digests mean nothing was written."""
    digests = {}
    for model in _tracked_models():
        names = [f.attname for f in model._meta.concrete_fields if f.attname not in VOLATILE_FIELDS]
        rows = model._base_manager.order_by("pk").values_list(*names)
        digests[model._meta.label] = hashlib.sha256(repr(list(rows)).encode()).hexdigest()
    return digests


def changed_tables(before: dict, after: dict) -> list[str]:
    return sorted(label for label in before if before[label] != after.get(label))


class Files:
    """The stored files (photos, uploaded imports) as the world left them, put back after every probe: the
    database rolls back, storage does not (an import that ran deletes its upload; a deletion deletes)."""

    def __init__(self, root):
        self.root = root
        self.saved = self._read()

    def _paths(self) -> set:
        return {path for path in self.root.rglob("*") if path.is_file()}

    def _read(self) -> dict:
        return {path: path.read_bytes() for path in self._paths()}

    def restore(self) -> list[str]:
        """Put every file back as it was; the names of the files that had been removed or added."""
        now = self._paths()
        touched = []
        for path, data in self.saved.items():
            if path not in now:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
                touched.append(f"removed {path.relative_to(self.root)}")
        for path in now - set(self.saved):
            path.unlink()
            touched.append(f"added {path.relative_to(self.root)}")
        return touched


class OutboundBlocked(httpx.ConnectError):
    pass


class OutboundRecorder:
    """Refuses every outbound HTTP request the app tries (tests stay off the network) and remembers it."""

    def __init__(self):
        self.calls: list[str] = []

    def handle_request(self, transport, request):
        self.calls.append(str(request.url))
        raise OutboundBlocked("blocked by the access matrix", request=request)


PERMISSION_NAMES = sorted(PERMISSIONS)
