"""The audit log of a school: browse by date range and export CSV or JSON."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone

from schoolgate.audit import actions as audit
from schoolgate.audit.exports import day_range, entries_between, entry_row, export_csv, export_json
from schoolgate.schools.permissions import has_permission
from schoolgate.schools.views import school_for


class RangeForm(forms.Form):
    since = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    until = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until"):
            if data["until"] < data["since"]:
                raise forms.ValidationError("The end date is before the start date.")
            try:
                data["start"], data["end"] = day_range(data["since"], data["until"])
            except ValueError as exc:
                raise forms.ValidationError(str(exc)) from exc
        return data


@login_required
def audit_log(request, slug):
    school = school_for(request, slug, "audit.view")
    today = timezone.localdate()
    form = RangeForm(request.GET or {"since": today - dt.timedelta(days=30), "until": today})
    show_restricted = has_permission(request.user, school, "audit.view_restricted")
    # Governors read the log to hold the school to account, not to learn which family refused what.
    show_pupils = has_permission(request.user, school, "pupils.view")
    rows = []
    if form.is_valid():
        entries = entries_between(form.cleaned_data["start"], form.cleaned_data["end"], school=school)
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
                    "pupils_shown": show_pupils,
                },
            )
            render_export = export_csv if export == "csv" else export_json
            body = render_export(entries, show_restricted=show_restricted, show_pupils=show_pupils)
            response = HttpResponse(body, content_type="text/csv" if export == "csv" else "application/json")
            name = f"{school.slug}-audit-{form.cleaned_data['since']}-{form.cleaned_data['until']}.{export}"
            response["Content-Disposition"] = f'attachment; filename="{name}"'
            return response
        rows = [entry_row(e, show_restricted=show_restricted, show_pupils=show_pupils) for e in entries.reverse()[:500]]
    context = {"school": school, "form": form, "rows": rows, "anchor": audit.chain_anchor()}
    return render(request, "audit/log.html", context)
