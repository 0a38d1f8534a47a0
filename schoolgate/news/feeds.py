"""RSS 2.0 and Atom 1.0 feeds of a school's public posts, for people who follow news without social media."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed, Rss201rev2Feed
from django.utils.html import format_html, format_html_join, linebreaks, strip_tags
from django.utils.safestring import mark_safe
from django.utils.text import Truncator

from schoolgate.news.actions import public_posts
from schoolgate.news.views import network_links, with_live_deliveries
from schoolgate.posts.models import Post
from schoolgate.publiccache import cached_public
from schoolgate.schools.models import School

FEED_LENGTH = 50


def headline(text: str) -> str:
    """The first non-empty line of a post, cut to 80 characters: posts have no titles of their own."""
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return Truncator(first).chars(80) or "News"


def plain_name(school: School) -> str:
    """The school's name without markup: many feed readers show a channel's title and description as HTML."""
    return " ".join(strip_tags(school.name).split())


class NewsRssFeed(Feed):
    feed_type = Rss201rev2Feed
    # The id must never change once a reader has seen it, even if the school's slug or the site moves path.
    item_guid_is_permalink = False

    def __call__(self, request, *args, **kwargs):
        """The feed from the public page cache (see publiccache); links are absolute, so kept per address."""
        school = get_object_or_404(School, slug=kwargs["slug"])
        name = f"{self.feed_type.__name__}:{request.build_absolute_uri('/')}"

        def build() -> tuple[bytes, str]:
            response = super(NewsRssFeed, self).__call__(request, *args, **kwargs)
            return response.content, response["Content-Type"]

        content, content_type = cached_public(school.pk, name, build)
        return HttpResponse(content, content_type=content_type)

    def get_object(self, request, slug):
        return get_object_or_404(School, slug=slug)

    def title(self, school: School) -> str:
        return f"{plain_name(school)} news"

    def link(self, school: School) -> str:
        return reverse("news:index", args=[school.slug])

    def feed_url(self, school: School) -> str:
        return reverse("news:rss", args=[school.slug])

    def description(self, school: School) -> str:
        return f"Everything {plain_name(school)} posts on its official social media accounts."

    def author_name(self, school: School) -> str:
        return plain_name(school)

    def items(self, school: School):
        return list(with_live_deliveries(public_posts(school))[:FEED_LENGTH])

    def item_title(self, post: Post) -> str:
        return headline(post.text)

    def item_description(self, post: Post) -> str:
        # HTML, escaped by us (the post's text is never trusted as markup), then escaped again as XML text.
        links = format_html_join(
            " · ", '<a href="{}">View on {}</a>', ((link["url"], link["network"]) for link in network_links(post))
        )
        text = linebreaks(post.text, autoescape=True)
        images = format_html_join(
            "",
            '<p><img src="{}" alt="{}"></p>',
            (
                (settings.SITE_URL + reverse("news:image", args=[post.school.slug, post.pk, i.pk]), i.alt_text)
                for i in post.shown_images
            ),
        )
        text = mark_safe(text + images)  # noqa: S308 - escaped by linebreaks and format_html_join
        return mark_safe(text + format_html("<p>{}</p>", links)) if links else text  # noqa: S308 - both parts escaped

    def item_link(self, post: Post) -> str:
        return reverse("news:item", args=[post.school.slug, post.pk])

    def item_guid(self, post: Post) -> str:
        host = urlsplit(settings.SITE_URL).hostname or "schoolgate"
        return f"tag:{host},{post.published_at:%Y-%m-%d}:news/{post.pk}"

    def item_pubdate(self, post: Post):
        return post.published_at

    def item_updateddate(self, post: Post):
        return post.published_at

    def item_author_name(self, post: Post) -> str:
        return plain_name(post.school)


class NewsAtomFeed(NewsRssFeed):
    feed_type = Atom1Feed

    def feed_url(self, school: School) -> str:
        return reverse("news:atom", args=[school.slug])

    def subtitle(self, school: School) -> str:
        return self.description(school)
