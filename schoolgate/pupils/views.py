"""Pupil list, the import pages, and photo consent: per pupil, coverage, and the families' own page."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from schoolgate.pupils import actions, consent, imports, year_groups
from schoolgate.pupils.forms import (
    ConfirmForm,
    ConsentForm,
    DoNotPhotographForm,
    LiftDoNotPhotographForm,
    MappingForm,
    UploadForm,
)
from schoolgate.pupils.models import (
    Carer,
    CarerLink,
    ConsentDecision,
    ConsentRecord,
    ConsentUse,
    DoNotPhotograph,
    FamilyLink,
    ImportRun,
    Pupil,
)
from schoolgate.schools.permissions import has_permission, require_permission
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
        "years": sorted(
            on_roll.exclude(year_group="").values_list("year_group", flat=True).distinct(), key=year_groups.sort_key
        ),
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
        try:
            run = actions.upload_import(
                school, by=request.user, kind=form.cleaned_data["kind"], filename=upload_file.name, file=upload_file
            )
        except ValidationError as error:
            form.add_error("file", error)
        else:
            return redirect("pupils:run", slug, run.pk)
    runs = ImportRun.objects.filter(school=school).select_related("uploaded_by")[:20]
    context = {"school": school, "form": form, "runs": runs, "max_mb": actions.MAX_UPLOAD_BYTES // (1024 * 1024)}
    return render(request, "pupils/import.html", context)


@login_required
def run_detail(request, slug, pk):
    """The file being checked, or its preview: columns, the first rows as they would be stored, problems."""
    school = school_for(request, slug, actions.IMPORT_PERMISSION)
    run = _run(school, pk)
    mapping_form = None
    if run.is_editable and run.headers:
        mapping_form = MappingForm(request.POST or None, kind=run.kind, headers=run.headers, initial=run.mapping)
        if request.method == "POST" and mapping_form.is_valid():
            try:
                actions.remap_import(run, by=request.user, mapping=mapping_form.mapping())
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
            return redirect("pupils:run", slug, run.pk)
    specs = [spec for spec in imports.fields_for(run.kind) if spec.name in run.mapping]
    notes: dict[int, list] = {}
    for kind, items in (("problem", run.problem_list()), ("warning", run.warning_list())):
        for item in items:
            if item.line:
                notes.setdefault(item.line, []).append((kind, item))
    context = {
        "school": school,
        "run": run,
        "mapping_form": mapping_form,
        "confirm_form": ConfirmForm(),
        "problems": run.problem_list(),
        "warnings": run.warning_list(),
        "preview_columns": [spec.label for spec in specs],
        "preview": [{**row, "notes": notes.get(row["line"], [])} for row in run.preview],
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
    run = _run(school, pk)
    response = render(request, "pupils/_status.html", {"school": school, "run": run})
    if request.GET.get("was") == "checking" and not run.is_checking:
        response["HX-Refresh"] = "true"  # checked: the whole page changes (preview, columns, confirmation)
    return response


# Photo consent (RS-IMG-1, AW-IMG-1)


def _pupil(school, pk) -> Pupil:
    return get_object_or_404(Pupil, pk=pk, school=school)


def _form_errors(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for name, errors in error.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


@login_required
def pupil_consent(request, slug, pk):
    """One pupil's consent: where they stand per use today, the full history, and recording answers."""
    school = school_for(request, slug, actions.VIEW_PERMISSION)
    pupil = _pupil(school, pk)
    can_record = has_permission(request.user, school, actions.CONSENT_PERMISSION)
    links = CarerLink.objects.filter(pupil=pupil).select_related("carer").order_by("carer__full_name")
    responsible = [link.carer for link in links if link.parental_responsibility]
    today = timezone.localdate()
    consent_form = ConsentForm(carers=responsible, initial={"decided_on": today}, prefix="consent")
    dnp_form = DoNotPhotographForm(carers=[link.carer for link in links], initial={"requested_on": today}, prefix="dnp")
    lift_form = LiftDoNotPhotographForm(prefix="lift")
    open_dnp = DoNotPhotograph.objects.filter(pupil=pupil, lifted_on=None).select_related("requested_by").first()
    if request.method == "POST":
        require_permission(request.user, school, actions.CONSENT_PERMISSION)
        which = request.POST.get("form")
        try:
            if which == "consent":
                consent_form = ConsentForm(request.POST, carers=responsible, prefix="consent")
                if consent_form.is_valid():
                    given_by, by_pupil = consent_form.answered_by("given_by")
                    data = consent_form.cleaned_data
                    records = actions.record_consents(
                        pupil,
                        by=request.user,
                        uses=data["uses"],
                        decision=data["decision"],
                        given_by=given_by,
                        given_by_pupil=by_pupil,
                        channel=data["channel"],
                        decided_on=data["decided_on"],
                        expires_on=data["expires_on"],
                        note=data["note"],
                    )
                    messages.success(request, f"Recorded {len(records)} decision{'s' if len(records) != 1 else ''}.")
                    return redirect("pupils:consent", slug, pupil.pk)
            elif which == "dnp":
                dnp_form = DoNotPhotographForm(request.POST, carers=[link.carer for link in links], prefix="dnp")
                if dnp_form.is_valid():
                    requested_by, by_pupil = dnp_form.answered_by("requested_by")
                    actions.record_do_not_photograph(
                        pupil,
                        by=request.user,
                        requested_by=requested_by,
                        requested_by_pupil=by_pupil,
                        requested_on=dnp_form.cleaned_data["requested_on"],
                        note=dnp_form.cleaned_data["note"],
                    )
                    messages.success(request, f"{pupil} is recorded as not to be photographed.")
                    return redirect("pupils:consent", slug, pupil.pk)
            elif which == "lift" and open_dnp is not None:
                lift_form = LiftDoNotPhotographForm(request.POST, prefix="lift")
                if lift_form.is_valid():
                    actions.lift_do_not_photograph(open_dnp, by=request.user, note=lift_form.cleaned_data["note"])
                    messages.success(request, "The request not to be photographed was lifted.")
                    return redirect("pupils:consent", slug, pupil.pk)
        except ValidationError as error:
            _form_errors({"consent": consent_form, "dnp": dnp_form, "lift": lift_form}[which], error)
    states = consent.states_for([pupil.pk], ConsentUse.values, today)
    family_links = {
        link.carer_id: link
        for link in FamilyLink.objects.filter(carer__in=responsible).usable(timezone.now()).order_by("created_at")
    }
    context = {
        "school": school,
        "pupil": pupil,
        "can_record": can_record,
        "rows": [(ConsentUse(use), states[(pupil.pk, use)]) for use in ConsentUse.values],
        "history": ConsentRecord.objects.filter(pupil=pupil).select_related("given_by", "recorded_by"),
        "dnp_history": DoNotPhotograph.objects.filter(pupil=pupil).select_related(
            "requested_by", "recorded_by", "lifted_by"
        ),
        "open_dnp": open_dnp,
        "carer_rows": [(link, family_links.get(link.carer_id)) for link in links],
        "consent_form": consent_form,
        "dnp_form": dnp_form,
        "lift_form": lift_form,
    }
    return render(request, "pupils/consent.html", context)


@login_required
@require_POST
def send_family_link(request, slug, pk, carer_pk):
    school = school_for(request, slug, actions.CONSENT_PERMISSION)
    pupil = _pupil(school, pk)
    carer = get_object_or_404(Carer, pk=carer_pk, school=school, carerlink__pupil=pupil)
    try:
        link = actions.send_family_link(carer, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request, f"Consent link emailed to {carer}; it works until {timezone.localtime(link.expires_at):%-d %B %Y}."
        )
    return redirect("pupils:consent", slug, pupil.pk)


@login_required
@require_POST
def revoke_family_link(request, slug, pk, link_pk):
    school = school_for(request, slug, actions.CONSENT_PERMISSION)
    pupil = _pupil(school, pk)
    link = get_object_or_404(FamilyLink, pk=link_pk, school=school)
    actions.revoke_family_link(link, by=request.user)
    messages.success(request, f"The consent link sent to {link.carer} no longer works.")
    return redirect("pupils:consent", slug, pupil.pk)


@login_required
def consent_coverage(request, slug):
    """Consent coverage per year and registration group for one use, as stacked bars with the numbers."""
    school = school_for(request, slug, actions.VIEW_PERMISSION)
    use = request.GET.get("use")
    if use not in ConsentUse.values:
        use = ConsentUse.SOCIAL_MEDIA_PHOTO
    coverage = consent.coverage(school, use, timezone.localdate())
    # Nursery, Reception, Year 1 … Year 13 in school order, not alphabetical ("Reception" after "Year 4").
    coverage.by_year.sort(key=lambda row: year_groups.sort_key(row.group))
    context = {"school": school, "uses": ConsentUse.choices, "coverage": coverage, "parts": consent.COVERAGE_PARTS}
    return render(request, "pupils/consent_coverage.html", context)


def _family_answers(post) -> dict[tuple[int, str], str]:
    answers = {}
    for key, value in post.items():
        if not key.startswith("answer-"):
            continue
        pupil_id, _, use = key.removeprefix("answer-").partition("-")
        if not pupil_id.isdigit():
            raise ValidationError("This link cannot answer for that pupil.")
        answers[(int(pupil_id), use)] = value
    return answers


@never_cache
def family(request, token):
    """The page a parent/carer opens from their email: no login; the secret link is the key."""
    try:
        link = actions.usable_family_link(token)
    except ValidationError as error:
        status = 404 if consent.find_family_link(token) is None else 410
        return render(request, "pupils/family_closed.html", {"message": " ".join(error.messages)}, status=status)
    error_message = ""
    if request.method == "POST":
        try:
            records = actions.answer_through_family_link(token, answers=_family_answers(request.POST))
        except ValidationError as error:
            error_message = " ".join(error.messages)
        else:
            messages.success(
                request,
                "Thank you: your answers are saved."
                if records
                else "Thank you: nothing needed changing, your earlier answers stand.",
            )
            return redirect("pupils:family", token)
    today = timezone.localdate()
    children = consent.children_of(link.carer, today)
    decisions = consent.decisions_for([child.pk for child in children], ConsentUse.values, today)
    dnp = consent.states_for([child.pk for child in children], [ConsentUse.SOCIAL_MEDIA_PHOTO], today)
    context = {
        "link": link,
        "link_school": link.school,
        "carer": link.carer,
        "error_message": error_message,
        "children": [
            {
                "pupil": child,
                "do_not_photograph": dnp[(child.pk, ConsentUse.SOCIAL_MEDIA_PHOTO)].do_not_photograph,
                "uses": [
                    {
                        "use": ConsentUse(use),
                        "field": f"answer-{child.pk}-{use}",
                        "answer": _family_answer(decisions[(child.pk, use)]),
                        "state": decisions[(child.pk, use)],
                    }
                    for use in ConsentUse.values
                ],
            }
            for child in children
        ],
    }
    return render(request, "pupils/family.html", context, status=400 if error_message else 200)


def _family_answer(state: consent.ConsentState) -> str:
    """What the page pre-selects: the family's current answer (a lapsed yes is not pre-selected)."""
    if state.given:
        return ConsentDecision.GIVEN
    if state.state in {consent.ConsentStatus.REFUSED, consent.ConsentStatus.WITHDRAWN}:
        return ConsentDecision.REFUSED
    return ""
