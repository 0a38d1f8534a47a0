"""The governors' report page and its PDF, for one school and a chosen period."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from schoolgate.reporting import documents
from schoolgate.reporting.actions import PERMISSION, Output, prepare_report
from schoolgate.reporting.figures import default_period
from schoolgate.reporting.forms import PeriodForm
from schoolgate.schools.views import school_for


def _period_form(request):
    """The form (bound when the period was chosen) and the period it gives; None when the dates are refused."""
    today = timezone.localdate()
    if "start" not in request.GET and "end" not in request.GET:
        period = default_period(today)
        return PeriodForm(initial={"start": period.start, "end": period.end}, today=today), period
    form = PeriodForm(request.GET, today=today)
    return form, form.period() if form.is_valid() else None


@login_required
@require_GET
def governors_report(request, slug):
    school = school_for(request, slug, PERMISSION)
    form, period = _period_form(request)
    if period is None:
        return render(request, "reporting/governors_report.html", {"school": school, "form": form}, status=400)
    report = prepare_report(school, by=request.user, period=period, output=Output.PAGE)
    context = {**documents.report_context(report), "form": form, "period": period}
    return render(request, "reporting/governors_report.html", context)


@login_required
@require_GET
def governors_report_pdf(request, slug):
    school = school_for(request, slug, PERMISSION)
    form, period = _period_form(request)
    if period is None:
        return render(request, "reporting/governors_report.html", {"school": school, "form": form}, status=400)
    report = prepare_report(school, by=request.user, period=period, output=Output.PDF)
    pdf = documents.render_report_pdf(report, base_url=request.build_absolute_uri("/"))
    response = HttpResponse(pdf, content_type="application/pdf")
    name = f"{school.slug}-governors-report-{period.start:%Y%m%d}-{period.end:%Y%m%d}.pdf"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "private, no-store"
    return response
