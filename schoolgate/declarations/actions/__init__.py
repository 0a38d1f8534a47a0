"""Declaration actions: personal accounts, the annual declaration, relationships, contact exceptions, the sweeps.

Each checks who may do it, writes, audits and notifies. Notifications say only that something needs attention and
link to where access is checked; audit entries name records by id. Relationship, exception and annual-declaration
entries are restricted and kept out of the school's audit log (school=None), as concerns' are: that log is read
by governors and by leaders who are not the readers of these records.
"""

from schoolgate.declarations.actions.accounts import (
    NO_DISCLAIMER,
    declare_personal_account,
    update_personal_account,
    withdraw_personal_account,
)
from schoolgate.declarations.actions.annual import (
    annual_schedule,
    ask_due_declarations,
    declarant_roles,
    make_annual_declaration,
    next_due_on,
    sweep_annual_declarations,
)
from schoolgate.declarations.actions.configure import SETTINGS_FIELDS, update_settings
from schoolgate.declarations.actions.exceptions import (
    MAX_EXCEPTION_DAYS,
    decide_exception,
    open_exception,
    request_exception,
    sweep_contact_exceptions,
    withdraw_exception,
)
from schoolgate.declarations.actions.relationships import (
    declare_relationship,
    open_relationship,
    review_relationship,
    sweep_relationship_reviews,
    withdraw_relationship,
)

__all__ = [
    "MAX_EXCEPTION_DAYS",
    "NO_DISCLAIMER",
    "SETTINGS_FIELDS",
    "annual_schedule",
    "ask_due_declarations",
    "decide_exception",
    "declarant_roles",
    "declare_personal_account",
    "declare_relationship",
    "make_annual_declaration",
    "next_due_on",
    "open_exception",
    "open_relationship",
    "request_exception",
    "review_relationship",
    "sweep_annual_declarations",
    "sweep_contact_exceptions",
    "sweep_relationship_reviews",
    "update_personal_account",
    "update_settings",
    "withdraw_exception",
    "withdraw_personal_account",
    "withdraw_relationship",
]
