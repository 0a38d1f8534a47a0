"""The audit log of a school: browse by date range and export CSV or JSON."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone

from schoolgate.audit import actions as audit
from schoolgate.audit.exports import entries_between, entry_row, export_csv, export_json
from schoolgate.schools.permissions import has_permission
from schoolgate.schools.views import school_for


class RangeForm(forms.Form):
    since = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    until = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["until"] < data["since"]:
            raise forms.ValidationError("The end date is before the start date.")
        return data


@login_required
def audit_log(request, slug):
    school = school_for(request, slug, "audit.view")
    today = timezone.localdate()
    form = RangeForm(request.GET or {"since": today - dt.timedelta(days=30), "until": today})
    show_restricted = has_permission(request.user, school, "audit.view_restricted")
    rows = []
    if form.is_valid():
        tz = timezone.get_current_timezone()
        start = dt.datetime.combine(form.cleaned_data["since"], dt.time.min, tzinfo=tz)
        end = dt.datetime.combine(form.cleaned_data["until"] + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
        entries = entries_between(start, end, school=school)
        export = request.GET.get("format")
        if export in {"csv", "json"}:
            audit.log(
                "audit.exported",
                actor=request.user,
                school=school,
                detail={
                    "format": export,
                    "since": form.cleaned_data["since"],
                    "until": form.cleaned_data["until"],
                    "restricted_shown": show_restricted,
                },
            )
            body = (export_csv if export == "csv" else export_json)(entries, show_restricted=show_restricted)
            response = HttpResponse(body, content_type="text/csv" if export == "csv" else "application/json")
            name = f"{school.slug}-audit-{form.cleaned_data['since']}-{form.cleaned_data['until']}.{export}"
            response["Content-Disposition"] = f'attachment; filename="{name}"'
            return response
        rows = [entry_row(e, show_restricted=show_restricted) for e in entries.reverse()[:500]]
    return render(request, "audit/log.html", {"school": school, "form": form, "rows": rows})
