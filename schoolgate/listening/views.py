"""Listening pages: the mentions and their triage, a mention, sources and keywords (to configure), and coverage."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from schoolgate.listening.actions import configure, triage
from schoolgate.listening.actions.access import may_configure, may_triage, require_triage
from schoolgate.listening.coverage import coverage_for, source_state
from schoolgate.listening.forms import ConcernForm, KeywordsForm, SourceForm
from schoolgate.listening.models import Keyword, Mention, MentionStatus, Source
from schoolgate.schools.permissions import permissions_for
from schoolgate.schools.views import errors_to_form, school_for

PAGE_SIZE = 50
CONFIGURE = "listening.configure"


def _triage_school(request, slug):
    school = school_for(request, slug, "school.view")
    require_triage(request.user, school)
    return school


def _mention_for(request, slug, pk, *, queryset=None) -> Mention:
    """The school's mention named in the URL (another school's is not found, whoever asks), then the triage check."""
    school = school_for(request, slug, "school.view")
    found = get_object_or_404(queryset if queryset is not None else Mention.objects.all(), school=school, pk=pk)
    require_triage(request.user, school)
    return found


@login_required
@require_GET
def mentions(request, slug):
    school = _triage_school(request, slug)
    status = request.GET.get("status", MentionStatus.NEW)
    shown = Mention.objects.filter(school=school).select_related("source", "account")
    if status in MentionStatus.values:
        shown = shown.filter(status=status)
    settings = configure.listening_settings(school)
    return render(
        request,
        "listening/mentions.html",
        {
            "school": school,
            "can": permissions_for(request.user, school),
            "configures": may_configure(request.user, school),
            "mentions": shown[:PAGE_SIZE],
            "status": status,
            "statuses": MentionStatus.choices,
            "watching": settings.watchers.filter(pk=request.user.pk).exists(),
        },
    )


@login_required
@require_GET
def mention(request, slug, pk):
    found = _mention_for(request, slug, pk, queryset=Mention.objects.select_related("source", "account", "concern"))
    school = found.school
    return render(
        request,
        "listening/mention.html",
        {
            "school": school,
            "can": permissions_for(request.user, school),
            "mention": found,
            "can_answer": triage.can_answer_in_inbox(found),
            "concern_form": ConcernForm(),
            "decided": found.status in triage.DECIDED,
        },
    )


def _back_to(mention: Mention) -> str:
    return reverse("listening:mention", args=[mention.school.slug, mention.pk])


@login_required
@require_POST
def decide(request, slug, pk):
    found = _mention_for(request, slug, pk)
    choice = request.POST.get("decision", "")
    act = {"ignore": triage.ignore_mention, "watch": triage.watch_mention, "reopen": triage.reopen_mention}.get(choice)
    if act is None:
        messages.error(request, "Choose what to do with the mention.")
        return redirect(_back_to(found))
    try:
        act(found, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect(_back_to(found))


@login_required
@require_POST
def to_inbox(request, slug, pk):
    found = _mention_for(request, slug, pk, queryset=Mention.objects.select_related("account"))
    school = found.school
    try:
        item = triage.send_to_inbox(found, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(_back_to(found))
    return redirect(reverse("inbox:item", args=[school.slug, item.pk]))


@login_required
@require_POST
def raise_concern(request, slug, pk):
    found = _mention_for(request, slug, pk)
    form = ConcernForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose what kind of concern this is.")
        return redirect(_back_to(found))
    try:
        triage.raise_concern(found, by=request.user, category=form.cleaned_data["category"])
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(_back_to(found))
    messages.success(request, "The post went to the safeguarding lead; its words are now in the concern log only.")
    return redirect(_back_to(found))


@login_required
@require_POST
def digest(request, slug):
    school = _triage_school(request, slug)
    configure.set_digest(school, by=request.user, wants=request.POST.get("wants") == "yes")
    return redirect(reverse("listening:mentions", args=[school.slug]))


@login_required
def sources(request, slug):
    school = school_for(request, slug, CONFIGURE)
    form = SourceForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                configure.add_source(school, by=request.user, **form.cleaned_data)
            except ValidationError as error:
                errors_to_form(error, form)
            else:
                messages.success(request, "Added. Schoolgate reads it in a moment.")
                return redirect(reverse("listening:sources", args=[school.slug]))
        status = 400
    rows = [source_state(s) for s in Source.objects.filter(school=school)]
    return render(
        request,
        "listening/sources.html",
        {"school": school, "can": permissions_for(request.user, school), "form": form, "rows": rows},
        status=status,
    )


@login_required
def edit_source(request, slug, pk):
    school = school_for(request, slug, CONFIGURE)
    source = get_object_or_404(Source, school=school, pk=pk)
    initial = {field: getattr(source, field) for field in ("name", "url", "query", "poll_minutes")}
    form = SourceForm(request.POST or None, initial=initial, editing=True)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                configure.update_source(source, by=request.user, **form.cleaned_data)
            except ValidationError as error:
                errors_to_form(error, form)
            else:
                messages.success(request, "Saved.")
                return redirect(reverse("listening:sources", args=[school.slug]))
        status = 400
    return render(
        request,
        "listening/source_form.html",
        {"school": school, "can": permissions_for(request.user, school), "form": form, "source": source},
        status=status,
    )


def _source_action(request, slug, pk, act):
    school = school_for(request, slug, CONFIGURE)
    source = get_object_or_404(Source, school=school, pk=pk)
    act(source, by=request.user)
    return redirect(reverse("listening:sources", args=[school.slug]))


@login_required
@require_POST
def pause_source(request, slug, pk):
    return _source_action(request, slug, pk, configure.pause_source)


@login_required
@require_POST
def resume_source(request, slug, pk):
    return _source_action(request, slug, pk, configure.resume_source)


@login_required
@require_POST
def remove_source(request, slug, pk):
    return _source_action(request, slug, pk, configure.remove_source)


@login_required
def keywords(request, slug):
    school = school_for(request, slug, CONFIGURE)
    form = KeywordsForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                added = configure.add_keywords(
                    school,
                    by=request.user,
                    phrases=configure.parse_keyword_lines(form.cleaned_data["phrases"]),
                    kind=form.cleaned_data["kind"],
                    exclude=form.cleaned_data["exclude"],
                )
            except ValidationError as error:
                errors_to_form(error, form)
            else:
                messages.success(request, f"Added {added}.")
                return redirect(reverse("listening:keywords", args=[school.slug]))
        status = 400
    words = Keyword.objects.filter(school=school)
    return render(
        request,
        "listening/keywords.html",
        {
            "school": school,
            "can": permissions_for(request.user, school),
            "form": form,
            "included": [k for k in words if not k.exclude],
            "excluded": [k for k in words if k.exclude],
        },
        status=status,
    )


@login_required
@require_POST
def remove_keyword(request, slug, pk):
    school = school_for(request, slug, CONFIGURE)
    keyword = get_object_or_404(Keyword, school=school, pk=pk)
    configure.remove_keyword(keyword, by=request.user)
    return redirect(reverse("listening:keywords", args=[school.slug]))


@login_required
@require_GET
def coverage(request, slug):
    school = _triage_school(request, slug)
    return render(
        request,
        "listening/coverage.html",
        {
            "school": school,
            "can": permissions_for(request.user, school),
            "configures": may_configure(request.user, school),
            **coverage_for(school),
        },
    )


def watches(user, school) -> bool:
    """For the navigation: the person triages mentions at this school."""
    return may_triage(user, school)
