"""Pupil list and the import pages: upload, columns and problems, confirmation, progress."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from schoolgate.pupils import actions, imports
from schoolgate.pupils.forms import ConfirmForm, MappingForm, UploadForm
from schoolgate.pupils.models import ImportRun, ImportStatus, Pupil
from schoolgate.schools.views import school_for

PAGE_SIZE = 100


@login_required
def pupil_list(request, slug):
    school = school_for(request, slug, actions.VIEW_PERMISSION)
    pupils = (
        Pupil.objects.filter(school=school)
        .annotate(carer_count=Count("carers"))
        .order_by("legal_surname", "legal_forename", "pk")
    )
    q = request.GET.get("q", "").strip()
    year = request.GET.get("year", "")
    group = request.GET.get("group", "")
    status = request.GET.get("status", "current")
    if q:
        for word in q.split():
            pupils = pupils.filter(
                Q(upn__icontains=word)
                | Q(legal_forename__icontains=word)
                | Q(legal_surname__icontains=word)
                | Q(preferred_forename__icontains=word)
                | Q(preferred_surname__icontains=word)
            )
    if year:
        pupils = pupils.filter(year_group=year)
    if group:
        pupils = pupils.filter(registration_group=group)
    if status == "current":
        pupils = pupils.filter(leaving_date=None)
    elif status == "former":
        pupils = pupils.exclude(leaving_date=None)
    on_roll = Pupil.objects.filter(school=school)
    context = {
        "school": school,
        "page": Paginator(pupils, PAGE_SIZE).get_page(request.GET.get("page")),
        "q": q,
        "year": year,
        "group": group,
        "status": status,
        "years": on_roll.exclude(year_group="").values_list("year_group", flat=True).distinct().order_by("year_group"),
        "groups": on_roll.exclude(registration_group="")
        .values_list("registration_group", flat=True)
        .distinct()
        .order_by("registration_group"),
        "counts": {
            "current": on_roll.filter(leaving_date=None).count(),
            "former": on_roll.exclude(leaving_date=None).count(),
        },
    }
    return render(request, "pupils/list.html", context)


def _run(school, pk) -> ImportRun:
    return get_object_or_404(ImportRun.objects.select_related("school", "uploaded_by"), pk=pk, school=school)


@login_required
def upload(request, slug):
    school = school_for(request, slug, actions.IMPORT_PERMISSION)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload_file = form.cleaned_data["file"]
        run = actions.validate_import(
            school,
            by=request.user,
            kind=form.cleaned_data["kind"],
            filename=upload_file.name,
            data=upload_file.read(),
        )
        return redirect("pupils:run", slug, run.pk)
    runs = ImportRun.objects.filter(school=school).select_related("uploaded_by")[:20]
    return render(request, "pupils/import.html", {"school": school, "form": form, "runs": runs})


@login_required
def run_detail(request, slug, pk):
    """The columns chosen for the file, and either its problems or what confirming would do."""
    school = school_for(request, slug, actions.IMPORT_PERMISSION)
    run = _run(school, pk)
    editable = run.status in {ImportStatus.INVALID, ImportStatus.VALIDATED} and not run.confirmed_at and run.content
    mapping_form = None
    if editable and run.headers:
        mapping_form = MappingForm(request.POST or None, kind=run.kind, headers=run.headers, initial=run.mapping)
        if request.method == "POST" and mapping_form.is_valid():
            try:
                actions.remap_import(run, by=request.user, mapping=mapping_form.mapping())
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
            return redirect("pupils:run", slug, run.pk)
    context = {
        "school": school,
        "run": run,
        "mapping_form": mapping_form,
        "confirm_form": ConfirmForm(),
        "problems": run.problem_list(),
        "fields": {spec.name: spec for spec in imports.fields_for(run.kind)},
    }
    return render(request, "pupils/run.html", context)


@login_required
@require_POST
def confirm(request, slug, pk):
    school = school_for(request, slug, actions.IMPORT_PERMISSION)
    run = _run(school, pk)
    form = ConfirmForm(request.POST)
    form.is_valid()
    try:
        actions.confirm_import(
            run, by=request.user, mark_missing_as_left=form.cleaned_data.get("mark_missing_as_left", False)
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("pupils:run", slug, run.pk)


@login_required
@require_POST
def cancel(request, slug, pk):
    school = school_for(request, slug, actions.IMPORT_PERMISSION)
    run = _run(school, pk)
    try:
        actions.cancel_import(run, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("pupils:run", slug, run.pk)
    messages.success(request, "Import cancelled; the uploaded file was discarded.")
    return redirect("pupils:import", slug)


@login_required
def run_status(request, slug, pk):
    """The progress fragment the run page polls while the import job works."""
    school = school_for(request, slug, actions.IMPORT_PERMISSION)
    return render(request, "pupils/_status.html", {"school": school, "run": _run(school, pk)})
