"""Fixtures shared by every app's tests."""

import pytest

from schoolgate.testing import make_school


@pytest.fixture
def cast(db):
    return make_school()


@pytest.fixture
def mailoutbox_cleared(mailoutbox):
    mailoutbox.clear()
    return mailoutbox
