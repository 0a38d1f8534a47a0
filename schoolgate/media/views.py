"""Media library pages: the grid, upload, a photo with its faces, deletion, and the permission-checked files."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from schoolgate.audit import actions as audit
from schoolgate.media import actions
from schoolgate.media.consent import faces_gaps, gaps_by_item, tagged_message
from schoolgate.media.forms import SOURCE_SUGGESTIONS, AddFaceForm, DeleteForm, FaceDecisionForm, UploadForm
from schoolgate.media.models import FILE_MISSING, Face, FaceDecision, MediaItem, MediaStatus, file_missing
from schoolgate.pupils.models import Pupil
from schoolgate.schools.permissions import has_permission, permissions_for
from schoolgate.schools.views import errors_to_form, oversized_body, school_for

PAGE_SIZE = 48
ORIGINAL_TYPES = {"jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp", "heif": "image/heic"}


def _item(school, pk) -> MediaItem:
    return get_object_or_404(
        MediaItem.objects.select_related("school", "uploaded_by", "checked_by_eye_by"), pk=pk, school=school
    )


# Who may see a photo before every face in it is decided: those who tag faces (staff, the leaders and the
# safeguarding leads, "media.upload"). Until then it may show a pupil who must not be seen, or whom no one has
# checked yet; volunteers, governors and the trust administrator see a photo only once it is ready.
SEE_UNDECIDED_PERMISSION = actions.UPLOAD_PERMISSION
NOT_DECIDED_YET = (
    "The faces in this photo have not all been tagged or blurred yet. Until they are, only staff who tag faces, "
    "the leaders and the safeguarding leads can see it."
)


def may_see_undecided(user, school) -> bool:
    return has_permission(user, school, SEE_UNDECIDED_PERMISSION)


def _visible_item(request, school, pk) -> MediaItem:
    """The photo, if this person may see it as it stands (undecided faces: only those who tag them)."""
    item = _item(school, pk)
    if item.status != MediaStatus.READY and not may_see_undecided(request.user, school):
        raise PermissionDenied(NOT_DECIDED_YET)
    return item


def _pupil_choices(school, face: Face | None = None):
    """Pupils on roll today, and the one a face is already tagged with even if they have since left."""
    today = timezone.localdate()
    current = Q(leaving_date=None) | Q(leaving_date__gt=today)
    if face is not None and face.pupil_id:
        current |= Q(pk=face.pupil_id)
    return Pupil.objects.filter(school=school).filter(current).order_by("legal_surname", "legal_forename", "pk")


@login_required
def library(request, slug):
    school = school_for(request, slug, "school.view")
    sees_undecided = may_see_undecided(request.user, school)
    items = (
        MediaItem.objects.filter(school=school)
        .annotate(face_count=Count("faces"), unresolved=Count("faces", filter=Q(faces__decision=FaceDecision.UNTAGGED)))
        .select_related("uploaded_by")
        .order_by("-uploaded_at", "-pk")
    )
    if not sees_undecided:
        items = items.filter(status=MediaStatus.READY)
    page = Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))
    gaps = gaps_by_item(page.object_list, timezone.localdate())
    for item in page.object_list:
        item.consent_gaps = gaps[item.pk]
    context = {
        "school": school,
        "page": page,
        "can": permissions_for(request.user, school),
        "sees_undecided": sees_undecided,
    }
    return render(request, "media/library.html", context)


@login_required
def upload(request, slug):
    school = school_for(request, slug, actions.UPLOAD_PERMISSION)
    if request.method == "POST":
        if length := oversized_body(request, actions.MAX_UPLOAD_BYTES):
            context = {**_upload_context(school, UploadForm()), "refused": actions.too_big_message(length)}
            return render(request, "media/upload.html", context, status=413)
        form = UploadForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            try:
                item = actions.upload_media(
                    school,
                    by=request.user,
                    file=data["file"],
                    source=data["source"],
                    photographer=data["photographer"],
                    licence=data["licence"],
                    permission_note=data["permission_note"],
                    alt_text=data["alt_text"],
                )
            except ValidationError as error:
                errors_to_form(error, form)
            else:
                faces = item.faces.count()
                if faces:
                    messages.success(
                        request,
                        f"Uploaded. {faces} face{'s' if faces != 1 else ''} found: tag each one or blur it before "
                        "the photo can be published.",
                    )
                else:
                    messages.success(request, "Uploaded. No faces were found; add any the scan missed.")
                return redirect("media:item", slug, item.pk)
    else:
        form = UploadForm()
    return render(request, "media/upload.html", _upload_context(school, form))


def _upload_context(school, form) -> dict:
    return {"school": school, "form": form, "suggestions": SOURCE_SUGGESTIONS}


@login_required
def item_detail(request, slug, pk):
    school = school_for(request, slug, "school.view")
    item = _visible_item(request, school, pk)
    can = permissions_for(request.user, school)
    can_tag = can["media_upload"]
    # Numbered left to right (then top to bottom), the way staff read a class photo.
    faces = sorted(item.faces.select_related("pupil", "decided_by", "added_by"), key=lambda f: (f.left, f.top, f.pk))
    pupils = _pupil_choices(school) if can_tag else Pupil.objects.none()
    today = timezone.localdate()
    # Who is in a photo is pupil data: shown to those who tag faces and those who may look pupils up.
    show_names = can_tag or can["pupils_view"]
    not_for = faces_gaps(faces, today) if show_names else {}
    panels = [
        {
            "number": number,
            "face": face,
            "pupils": _pupil_choices(school, face) if can_tag and face.pupil_id else pupils,
            # Where this pupil may not appear, said as soon as the face is tagged (not first at submission).
            "not_for": not_for.get(face.pk, []),
        }
        for number, face in enumerate(faces, start=1)
    ]
    context = {
        "school": school,
        "item": item,
        "panels": panels,
        "can_tag": can_tag,
        "show_names": show_names,
        "can_delete": can["media_delete"],
        "add_form": AddFaceForm(),
        "consent_gaps": gaps_by_item([item], today)[item.pk],
        "live_posts": item.live_post_count(),
        "file_missing": file_missing(item),
        "file_missing_message": FILE_MISSING,
    }
    return render(request, "media/item.html", context)


@login_required
@require_POST
def decide_face(request, slug, pk, face_pk):
    school = school_for(request, slug, actions.UPLOAD_PERMISSION)
    item = _item(school, pk)
    face = get_object_or_404(Face.objects.select_related("media_item__school", "pupil"), pk=face_pk, media_item=item)
    form = FaceDecisionForm(request.POST, pupils=_pupil_choices(school, face))
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return redirect("media:item", slug, item.pk)
    decision, data = form.cleaned_data["decision"], form.cleaned_data
    live = item.live_post_count()
    if live and not data["confirm_published"]:
        # A photo already out in the world: say what changing it means, and ask once more.
        context = {"school": school, "item": item, "face": face, "live_posts": live, "post_data": request.POST}
        return render(request, "media/confirm_change.html", context, status=409)
    try:
        if decision == FaceDecision.PUPIL:
            actions.tag_face(face, by=request.user, pupil=data["pupil"], confirm_published=data["confirm_published"])
            clear, done = tagged_message(data["pupil"], timezone.localdate())
        elif decision == FaceDecision.NOT_PUPIL:
            actions.mark_not_pupil(
                face, by=request.user, note=data["note"], confirm_published=data["confirm_published"]
            )
            clear, done = True, "Face marked as not a pupil."
        elif decision == FaceDecision.BLURRED:
            actions.blur_face(face, by=request.user, confirm_published=data["confirm_published"])
            clear, done = True, "Face blurred in the photo that can be published."
        else:
            actions.untag_face(face, by=request.user, confirm_published=data["confirm_published"])
            clear, done = True, "Decision undone: the face must be tagged or blurred again."
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        (messages.success if clear else messages.warning)(request, done)
    return redirect("media:item", slug, item.pk)


@login_required
@require_POST
def add_face(request, slug, pk):
    school = school_for(request, slug, actions.UPLOAD_PERMISSION)
    item = _item(school, pk)
    form = AddFaceForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Drag a box around the face on the photo (or give all four percentages).")
        return redirect("media:item", slug, item.pk)
    try:
        actions.add_face(item, by=request.user, box=form.box())
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "Face added: now tag it or blur it.")
    return redirect("media:item", slug, item.pk)


@login_required
@require_POST
def check_by_eye(request, slug, pk):
    school = school_for(request, slug, actions.UPLOAD_PERMISSION)
    item = _item(school, pk)
    try:
        actions.mark_checked_by_eye(item, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "Recorded: you have checked the photo by eye for faces the scan missed.")
    return redirect("media:item", slug, item.pk)


@login_required
def delete(request, slug, pk):
    school = school_for(request, slug, actions.DELETE_PERMISSION)
    item = _item(school, pk)
    form = DeleteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            actions.delete_media(item, by=request.user, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            errors_to_form(error, form)
        else:
            messages.success(request, "The photo and every copy made from it have been deleted.")
            return redirect("media:library", slug)
    return render(request, "media/delete.html", {"school": school, "item": item, "form": form})


@login_required
def media_file(request, slug, pk, kind):
    """One file of a photo, to members of the school only; the original (metadata and all) only to those who
    may delete photos. Never cached, so a deleted photo is gone from browsers too."""
    if kind not in {"publishable", "thumbnail", "original"}:
        raise Http404
    school = school_for(request, slug, actions.DELETE_PERMISSION if kind == "original" else "school.view")
    item = _visible_item(request, school, pk)
    field = getattr(item, kind)
    try:
        handle = field.storage.open(field.name, "rb")
    except FileNotFoundError as error:
        raise Http404(FILE_MISSING) from error
    if kind == "original":
        content_type = ORIGINAL_TYPES[item.original_format]
        audit.log("media.original_downloaded", actor=request.user, target=item)
    else:
        content_type = item.mime_type if kind == "publishable" else "image/jpeg"
    extension = field.name.rsplit(".", 1)[-1]
    response = FileResponse(
        handle,
        content_type=content_type,
        as_attachment=kind == "original",
        filename=f"photo-{item.pk}-{kind}.{extension}",
    )
    response["Cache-Control"] = "private, no-store"
    return response


def signed_file(request, token):
    """The publishable copy behind a short-lived signed link (for networks that fetch images by URL)."""
    from django.core import signing

    from schoolgate.media.models import SIGNED_LINK_SALT, SIGNED_LINK_SECONDS, MediaNotReady, publishable_bytes

    try:
        claims = signing.loads(token, salt=SIGNED_LINK_SALT, max_age=SIGNED_LINK_SECONDS)
    except signing.BadSignature as error:  # includes SignatureExpired
        raise Http404 from error
    item = get_object_or_404(MediaItem, pk=claims["item"], publishable=claims["file"])
    try:
        data, mime_type = publishable_bytes(item)
    except MediaNotReady as error:
        raise Http404 from error
    response = HttpResponse(data, content_type=mime_type)
    response["Cache-Control"] = "private, no-store"
    return response
