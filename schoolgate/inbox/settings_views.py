"""The leaders' inbox pages (inbox.manage): the inbox's settings and the school's response templates. Each form
posts to inbox/actions/configure.py, which checks the permission, saves and audits."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render

from schoolgate.inbox.actions import configure
from schoolgate.inbox.deadlines import inbox_settings
from schoolgate.inbox.forms import SettingsForm, TemplateForm
from schoolgate.inbox.models import ResponseTemplate
from schoolgate.schools.views import errors_to_form, school_for


@login_required
def settings_page(request, slug):
    school = school_for(request, slug, configure.MANAGE_PERMISSION)
    current = inbox_settings(school)
    form = SettingsForm(request.POST or None, instance=current)
    if request.method == "POST" and form.is_valid():
        try:
            configure.update_settings(
                school, by=request.user, **{f: form.cleaned_data[f] for f in configure.SETTING_FIELDS}
            )
        except ValidationError as error:
            errors_to_form(error, form)
        else:
            messages.success(request, "The inbox settings are saved.")
            return redirect("inbox:settings", school.slug)
    return render(request, "inbox/settings.html", {"school": school, "form": form}, status=400 if form.errors else 200)


@login_required
def templates_page(request, slug):
    school = school_for(request, slug, configure.MANAGE_PERMISSION)
    editing = None
    if request.GET.get("edit") or request.POST.get("template"):
        editing = get_object_or_404(
            ResponseTemplate, pk=request.POST.get("template") or request.GET.get("edit"), school=school
        )
    initial = (
        {"kind": editing.kind, "name": editing.name, "text": editing.text, "active": editing.active}
        if editing
        else None
    )
    form = TemplateForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            configure.save_template(school, by=request.user, template=editing, **form.cleaned_data)
        except ValidationError as error:
            errors_to_form(error, form)
        else:
            messages.success(request, "The template is saved.")
            return redirect("inbox:templates", school.slug)
    context = {
        "school": school,
        "form": form,
        "editing": editing,
        "templates": ResponseTemplate.objects.filter(school=school).select_related("updated_by"),
    }
    return render(request, "inbox/templates.html", context, status=400 if form.errors else 200)
