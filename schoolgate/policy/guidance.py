"""The wording guidance starts from: staff factsheets, the page for pupils and families, and sites' minimum ages."""

from __future__ import annotations

from dataclasses import dataclass

from schoolgate.policy.models import GuidanceKind

# The staff factsheets a school starts with, drawn from the advice both seed policies give staff (privacy
# settings, location sharing, public listings, logging out, passwords, personal views). Each is a draft the
# school edits and approves before anyone is asked to read it.
STARTER_FACTSHEETS: list[tuple[str, str]] = [
    (
        "Privacy settings on your personal accounts",
        """Your personal accounts are yours, but what you post there can affect your role, your reputation and the school. Set the privacy of each account so that only people you choose see your posts, photos and friends list.

Check each account at least once a year, and whenever the site changes its settings:
- Make your profile, posts and photos visible to friends only, not "public" or "friends of friends".
- Hide your friends or followers list, so pupils and families cannot find each other through you.
- Turn on "review posts you are tagged in", so nothing appears on your profile without your say.
- Look at your profile as a stranger would (most sites have a "view as" option).

Even with the tightest settings, anything you post can be copied and shared. Do not publish detailed private thoughts, concerns, pictures or messages, and nothing that could be seen as threatening, hurtful or defamatory.""",  # noqa: E501 - paragraphs stay one line each, as people edit them
    ),
    (
        "Location sharing",
        """Phones, apps and cameras can tell people where you are, where you live and where you work.

- Turn off location sharing in social media apps, or limit it to people you trust.
- Do not check in, or post live, from school, school trips or your home.
- Switch off location tagging in your phone's camera, so photos do not carry where they were taken.
- Check "find my friends" style features and which apps may use your location in your phone's settings.

Photos taken in school are never posted on personal accounts: only on the school's official accounts, and only of pupils whose parents have given consent.""",  # noqa: E501 - paragraphs stay one line each, as people edit them
    ),
    (
        "Public listings: saying where you work",
        """We encourage staff not to name the school as their employer on personal social networking accounts. It keeps what you post from being linked with the school, and protects your privacy.

- Leave the employer and workplace fields of your personal profiles empty, or keep them visible only to you.
- Opt out of public listings: ask search engines and people-finder sites to remove your details, and turn off "let others find me by my email or phone number".
- Professional networking profiles (such as LinkedIn) may name the school. If they do, keep them professional and say that the views are your own.

Where any personal account associates itself with the school, it must make clear, with a disclaimer, that you are not speaking on behalf of the school.""",  # noqa: E501 - paragraphs stay one line each, as people edit them
    ),
    (
        "Logging out after use",
        """An account left signed in on a shared computer, a school laptop or a friend's phone can be used by anyone who picks it up.

- Log out of every account when you have finished on a shared or school device; closing the browser is not enough.
- Never tick "remember me" on a device someone else uses.
- Lock your phone and computer when you step away from them.
- Review the devices signed in to your accounts from time to time, and sign out any you do not recognise.

Personal social media is not used on school devices during working hours.""",  # noqa: E501 - paragraphs stay one line each, as people edit them
    ),
    (
        "Passwords and two-step verification",
        """Keep passwords safe and confidential: a stolen password can be used to post in your name.

- Use a different, long password for every account (three random words work well), and a password manager to remember them.
- Turn on two-step verification wherever it is offered, with an authenticator app rather than text messages where you can.
- Never share a password, including the login of a school account; leadership holds those for emergencies.
- If you think an account has been taken over, change the password at once and tell the school.""",  # noqa: E501 - paragraphs stay one line each, as people edit them
    ),
    (
        "Your personal views are not the school's",
        """Only the people the school has authorised speak for it, and only on its official accounts.

- Do not present your personal views as the school's, and do not make commitments or share information on the school's behalf.
- Where a personal account mentions the school, say that the views are your own.
- Information you see at work, including photos and details of pupils, families and colleagues, is never shared or discussed on social media.
- Do not comment on school matters, complaints or other staff online.

If anything you have shared conflicts with your role, tell the leadership team straight away. If you are worried about something you have seen online, report it to the Designated Safeguarding Lead.""",  # noqa: E501 - paragraphs stay one line each, as people edit them
    ),
]

PUPIL_GUIDANCE_TITLE = "Staying safe online"
PUPIL_GUIDANCE_TEXT = """We teach pupils how to use social media safely, step by step, using sites and resources suited to their age. Many popular sites are not for children under 13 (see the table on this page). We remind pupils of this, and still teach them how to stay safe online.

Our advice to pupils:
- Think before you share anything that could identify you or show where you are: your full name, your address, your phone number, or photos in school uniform.
- Only accept friends you know in real life, and make your profile private so that strangers cannot see it.
- Never meet someone you only know online without your parent or carer's permission, and only with a trusted adult there.
- Use safe passwords that nobody else knows, and log out on shared devices.
- Use sites, apps and games that are right for your age.
- Block and report anyone who sends you something unkind or worrying, or asks you to keep a secret.
- If you run a group chat that is used to say hurtful or threatening things, remove the conversation and tell an adult.

For parents and carers:
- Check a site's minimum age before your child signs up, and set up its parental controls together.
- Talk with your child about what they do online, and keep devices in shared rooms where you can.
- Do not share photos of other people's children without their permission.

If we are worried about a pupil's use of social media we will talk to you, particularly about a child using a site below its minimum age, or sharing images or messages that could be hurtful, threatening or defamatory. Please tell us if you are worried: we would much rather know."""  # noqa: E501


def default_text(kind: str) -> str:
    """What a first draft of a guidance document starts from."""
    return PUPIL_GUIDANCE_TEXT if kind == GuidanceKind.PUPIL_GUIDANCE else ""


@dataclass(frozen=True)
class AgeLimit:
    site: str
    minimum_age: int | None  # None: no minimum, but protections by age
    note: str = ""


# From each site's own terms of service for the UK. They change: the page tells families to check.
AGE_LIMITS: list[AgeLimit] = [
    AgeLimit("Facebook", 13),
    AgeLimit("Instagram", 13, "Teen accounts are private by default."),
    AgeLimit("TikTok", 13, "Under-16s cannot send direct messages, and their accounts are private by default."),
    AgeLimit("Snapchat", 13, "Keep Ghost Mode on, so that Snap Map does not show where you are."),
    AgeLimit("X (Twitter)", 13),
    AgeLimit("WhatsApp", 13, "The minimum age in the UK was lowered from 16 to 13 in 2024."),
    AgeLimit(
        "YouTube", 13, "Younger children can use YouTube Kids, or a supervised account a parent sets up and manages."
    ),
    AgeLimit("Discord", 13),
    AgeLimit("Reddit", 13),
    AgeLimit("Twitch", 13, "Under-18s may use it only with a parent or guardian's involvement."),
    AgeLimit("Pinterest", 13),
    AgeLimit("Roblox", None, "Open to all ages, but chat is limited by age: set up its parental controls together."),
]

# Where pupils and families can get help outside school (national UK services).
HELP_ELSEWHERE: list[tuple[str, str, str]] = [
    ("In an emergency, or if a child is in immediate danger", "Call 999", ""),
    (
        "Worried about the way someone has been talking to a child online",
        "Report it to CEOP, the police's child protection service",
        "https://www.ceop.police.uk/Safety-Centre/",
    ),
    (
        "Children and young people: someone to talk to, free and confidential",
        "Childline, 0800 1111",
        "https://www.childline.org.uk/",
    ),
    ("Adults worried about a child", "The NSPCC helpline, 0808 800 5000", "https://www.nspcc.org.uk/"),
]
