"""The Django admin is for the people who host Schoolgate: it cannot bypass the audited ways schools and
memberships change."""

from __future__ import annotations

from schoolgate.schools.models import Membership
from schoolgate.testing import make_user


def test_the_admin_shows_schools_but_cannot_add_or_delete_one_or_edit_its_members(client, cast):
    host = make_user("Hosting Person", totp=True)
    host.is_staff = host.is_superuser = True
    host.save(update_fields=["is_staff", "is_superuser"])
    client.force_login(host)
    members_before = list(Membership.objects.filter(school=cast.school).values_list("user", "role"))

    change_page = client.get(f"/admin/schools/school/{cast.school.pk}/change/")
    assert change_page.status_code == 200
    assert b"change them on the school&#x27;s Members page" in change_page.content
    # The memberships are listed read-only: no role field to change and no empty form for a new one.
    assert b'name="memberships-0-role"' not in change_page.content
    assert members_before  # the cast has members, so a row per member is on the page, each read-only
    assert b"memberships-__prefix__-role" not in change_page.content

    assert client.get("/admin/schools/school/add/").status_code == 403
    assert client.get(f"/admin/schools/school/{cast.school.pk}/delete/").status_code == 403
    posted = client.post(
        "/admin/schools/school/",
        {"action": "delete_selected", "_selected_action": [cast.school.pk], "post": "yes"},
    )
    assert posted.status_code in (200, 302)
    assert type(cast.school).objects.filter(pk=cast.school.pk).exists()
    assert list(Membership.objects.filter(school=cast.school).values_list("user", "role")) == members_before
