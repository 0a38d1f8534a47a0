"""Demo listening for a demo school: its keywords, a Bluesky search (paused: the demo runs offline) and two mentions
it found, one under reputation watch (called by schools/demo_data.seed_demo)."""

from __future__ import annotations

from schoolgate.listening.actions import configure, triage
from schoolgate.listening.actions.polling import record_found
from schoolgate.listening.models import KeywordKind, Mention, SourceKind
from schoolgate.listening.sources.base import Found
from schoolgate.schools.roles import Role


def seed_demo_listening(school, people: dict) -> list[Mention]:
    """Through the real actions: keywords (name, hashtag, headteacher), one source, two mentions screened as any
    would be; the headteacher puts one under reputation watch. Safe to run twice (keywords and posts dedupe)."""
    head = people[Role.HEADTEACHER]
    tag = "#" + "".join(word for word in school.name.split() if word.isalnum())
    configure.add_keywords(school, by=head, phrases=[school.name], kind=KeywordKind.NAME)
    configure.add_keywords(school, by=head, phrases=[tag], kind=KeywordKind.HASHTAG)
    configure.add_keywords(school, by=head, phrases=[head.full_name], kind=KeywordKind.HEADTEACHER)
    source = school.listening_sources.filter(kind=SourceKind.BLUESKY).first() or configure.add_source(
        school, by=head, kind=SourceKind.BLUESKY, name="Bluesky: the school's name", query=school.name
    )
    configure.pause_source(source, by=head)  # paused before it is ever read: the demo calls no network
    found = record_found(
        source,
        [
            Found(
                remote_id=f"demo-{school.slug}-1",
                text=f"Lovely to hear the {school.name} choir at the Christmas market this evening {tag}",
                url=f"https://bsky.app/profile/neighbour.example/post/{school.slug}1",
                author="neighbour.example",
            ),
            Found(
                remote_id=f"demo-{school.slug}-2",
                text=f"Anyone else think the new parking rules outside {school.name} are a joke? Queued for 20 minutes",
                url=f"https://bsky.app/profile/local-parent.example/post/{school.slug}2",
                author="local-parent.example",
            ),
        ],
    )
    for mention in found:
        if "parking" in mention.text:
            triage.watch_mention(mention, by=head)
    return found
