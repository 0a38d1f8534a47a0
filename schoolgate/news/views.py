"""Public news pages, digest sign-up, confirmation and unsubscribe (no login); leaders' subscriber counts."""

from __future__ import annotations

from allauth.account.adapter import get_adapter
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from schoolgate.media.models import MediaNotReady, publishable_bytes
from schoolgate.news import actions
from schoolgate.news.forms import SubscribeForm
from schoolgate.news.models import DigestIssue, DigestSubscriber
from schoolgate.posts.models import Delivery, Post, PostImage
from schoolgate.publiccache import cached_public
from schoolgate.schools.models import School
from schoolgate.schools.views import school_for

NEWS_PER_PAGE = 20
# Generous, because a whole school's families may share one address (a proxy, the school's own Wi-Fi).
SIGNUPS_PER_ADDRESS_PER_HOUR = 30


def with_live_deliveries(posts):
    return posts.select_related("school").prefetch_related(
        Prefetch(
            "deliveries",
            queryset=Delivery.objects.published().select_related("account").order_by("account__name"),
            to_attr="live_deliveries",
        ),
        Prefetch(
            "images",
            queryset=PostImage.objects.filter(media_item__isnull=False).order_by("position", "pk"),
            to_attr="shown_images",
        ),
    )


def network_links(post: Post) -> list[dict]:
    """Where the post lives on each network; only web links, so a stored URL can never become a script."""
    return [
        {"network": delivery.account.network_label, "account": delivery.account.name, "url": delivery.url}
        for delivery in post.live_deliveries
        if delivery.url.startswith(("https://", "http://"))
    ]


def _public_school(slug: str) -> School:
    return get_object_or_404(School, slug=slug)


def _subscriber(slug: str, token: str) -> DigestSubscriber:
    return get_object_or_404(DigestSubscriber.for_token(token).select_related("school"), school__slug=slug)


def _too_many_signups(request) -> bool:
    try:
        address = get_adapter(request).get_client_ip(request)
    except PermissionDenied:
        address = "unknown"
    key = f"news.signup:{address}"
    cache.add(key, 0, timeout=3600)
    try:
        return cache.incr(key) > SIGNUPS_PER_ADDRESS_PER_HOUR
    except ValueError:  # expired between add and incr
        return False


def news_index(request, slug):
    """The school's news (AW-PUB-4): every public post, newest first, with links to each network."""
    school = _public_school(slug)
    number = request.GET.get("page", "")
    number = number if number.isdigit() and len(number) < 7 else "1"  # what get_page would make of it

    def render_posts() -> str:
        page = Paginator(with_live_deliveries(actions.public_posts(school)), NEWS_PER_PAGE).get_page(number)
        items = [{"post": post, "links": network_links(post)} for post in page]
        return render_to_string("news/_posts.html", {"public_school": school, "page": page, "items": items})

    # The posts are the same for every visitor (kept briefly, see publiccache); the form's token is each one's.
    posts = cached_public(school.pk, f"news-page:{number[:12]}", render_posts)
    return render(request, "news/index.html", {"public_school": school, "posts": posts, "form": SubscribeForm()})


def news_item(request, slug, pk):
    school = _public_school(slug)
    post = get_object_or_404(with_live_deliveries(actions.public_posts(school)), pk=pk)
    return render(
        request,
        "news/item.html",
        {"public_school": school, "item": {"post": post, "links": network_links(post)}},
    )


@require_http_methods(["GET", "POST"])
def subscribe(request, slug):
    school = _public_school(slug)
    # Bound on every POST, even an empty one: an unbound form cannot carry the rate-limit error.
    form = SubscribeForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if _too_many_signups(request):
            form.add_error(None, "Too many sign-ups have come from your connection. Please try again in an hour.")
            status = 429
        elif form.is_valid():
            try:
                actions.subscribe(school, email=form.cleaned_data["email"])
            except ValidationError as error:
                form.add_error("email", error.message_dict.get("email", error.messages))
            else:
                # The same reply whether the address is new, pending or already confirmed: the form must not
                # tell a stranger who gets the school's emails.
                return render(request, "news/subscribe_sent.html", {"public_school": school})
    return render(request, "news/subscribe.html", {"public_school": school, "form": form}, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def confirm(request, slug, token):
    """GET only shows a button: mail scanners open links, and must not sign anyone up by doing so."""
    subscriber = _subscriber(slug, token)
    confirmed = actions.confirm_subscription(subscriber) if request.method == "POST" else False
    return render(
        request,
        "news/confirm.html",
        {"public_school": subscriber.school, "subscriber": subscriber, "just_confirmed": confirmed},
    )


# RFC 8058 one-click: the mail app POSTs "List-Unsubscribe=One-Click" with no cookies and no CSRF token.
# That is safe because the only state change is stopping mail, and the secret token in the URL names who.
@csrf_exempt
@never_cache
@require_http_methods(["GET", "POST"])
def unsubscribe(request, slug, token):
    subscriber = _subscriber(slug, token)
    if request.method == "POST":
        actions.unsubscribe(subscriber)
    return render(
        request,
        "news/unsubscribe.html",
        {"public_school": subscriber.school, "subscriber": subscriber, "posted": request.method == "POST"},
    )


@login_required
def subscribers(request, slug):
    """Counts only: leaders need to know the digest is used, not who the families are."""
    school = school_for(request, slug, "news.view_subscribers")
    counts = DigestSubscriber.objects.filter(school=school).counts_by_status()
    issues = DigestIssue.objects.filter(school=school).annotate(
        sent=Count("deliveries", filter=Q(deliveries__sent_at__isnull=False)),
        unsent=Count("deliveries", filter=Q(deliveries__sent_at__isnull=True)),
    )[:12]
    return render(request, "news/subscribers.html", {"school": school, "counts": counts, "issues": issues})


def news_image(request, slug, pk, image_pk):
    """A photo of a public post: only its publishable copy (never the original), and only while the post is public.

    Not cached beyond a short time, so a post taken down (consent withdrawn) stops showing its photo promptly.
    """
    school = _public_school(slug)
    post = get_object_or_404(actions.public_posts(school), pk=pk)
    image = get_object_or_404(PostImage.objects.select_related("media_item"), pk=image_pk, post=post)
    if image.media_item is None:
        raise Http404
    try:
        data, mime_type = publishable_bytes(image.media_item)
    except MediaNotReady as error:
        raise Http404 from error
    response = HttpResponse(data, content_type=mime_type)
    response["Cache-Control"] = "public, max-age=300"
    return response
