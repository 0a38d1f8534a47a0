"""Personal data, location, commercial and offensive-language detectors, each citing its clause."""

from __future__ import annotations

import pytest

from schoolgate.screening.engine import ScreeningRules, screen
from schoolgate.screening.roster import Roster

EMPTY = Roster.build([])


def found(text: str, category: str, **rules) -> list[tuple[str, str, str]]:
    return [
        (f.text, f.severity, f.clause)
        for f in screen(text, roster=EMPTY, rules=ScreeningRules(**rules))
        if f.category == category
    ]


@pytest.mark.clause("AW-PUB-2")
@pytest.mark.parametrize(
    "text, number",
    [
        ("Call 07700 900123 after six", "07700 900123"),  # Ofcom drama range: phonenumbers calls it invalid
        ("Call 07700900999 after six", "07700900999"),
        ("Ring +44 7700 900456 now", "+44 7700 900456"),
        ("Ring +447700900456 now", "+447700900456"),
        ("Ring +44 (0)7700 900456 now", "+44 (0)7700 900456"),
        ("Mobile 07400 123456.", "07400 123456"),
        ("Office: 01234 567890", "01234 567890"),
        ("Office: 020 7946 0018", "020 7946 0018"),
        ("Office: 0044 20 7946 0018", "0044 20 7946 0018"),
    ],
)
def test_it_finds_uk_phone_numbers_including_the_drama_range(text, number):
    assert found(text, "phone") == [(number, "blocking", "AW-PUB-2")]


@pytest.mark.parametrize("text", ["Years 2015 2016 2017", "On 01.02.2015 we met", "Room 12, 3 of 4", "Score 1-0"])
def test_it_does_not_take_dates_and_scores_for_phone_numbers(text):
    assert found(text, "phone") == []


@pytest.mark.clause("AW-PUB-2")
@pytest.mark.parametrize(
    "address",
    ["j.smith@oakfield.sch.uk", "office@st-marys.surrey.sch.uk", "mum.of.three+school@gmail.com", "a@b.co.uk"],
)
def test_it_finds_email_addresses_including_school_domains(address):
    assert found(f"Write to {address} today.", "email") == [(address, "blocking", "AW-PUB-2")]


def test_it_only_advises_on_the_schools_own_address():
    rules = {"own_email_domains": frozenset({"oakfield.sch.uk"})}
    assert found("Email office@oakfield.sch.uk", "email", **rules)[0][1] == "advisory"
    assert found("Email someone@gmail.com", "email", **rules)[0][1] == "blocking"


@pytest.mark.clause("AW-PUB-2")
@pytest.mark.parametrize("postcode", ["SW1A 1AA", "M1 1AE", "B33 8TH", "CR2 6XH", "DN55 1PT", "sw1a 1aa", "EC1A1BB"])
def test_it_finds_uk_postcodes(postcode):
    assert found(f"We are at {postcode}.", "postcode") == [(postcode, "blocking", "AW-PUB-2")]


@pytest.mark.parametrize("text", ["Year 6 class 4", "at 10am in room b12", "the ab12cd code"])
def test_it_does_not_take_ordinary_words_for_postcodes(text):
    assert found(text, "postcode") == []


@pytest.mark.clause("AW-PUB-2")
@pytest.mark.parametrize("address", ["12 Acacia Avenue", "3a High Street", "221 Baker St", "7 Mill Lane"])
def test_it_finds_street_addresses(address):
    assert found(f"She lives at {address} with her gran.", "street_address")[0][0] == address


@pytest.mark.clause("AW-PUB-2")
@pytest.mark.parametrize(
    "text, span",
    [
        ("Amelia was born on 3/4/2015.", "born on 3/4/2015"),
        ("DOB: 03/04/2015", "DOB: 03/04/2015"),
        ("date of birth 3rd April 2015", "date of birth 3rd April 2015"),
        ("born 12 March 2016 in Leeds", "born 12 March 2016"),
    ],
)
def test_it_finds_dates_of_birth(text, span):
    assert found(text, "date_of_birth") == [(span, "blocking", "AW-PUB-2")]


def test_it_only_advises_on_a_dob_label_without_a_date():
    assert found("Please add the DOB on the form.", "date_of_birth") == [("DOB", "advisory", "AW-PUB-2")]


@pytest.mark.clause("AW-IMG-2")
@pytest.mark.parametrize(
    "text, span",
    [
        ("Year 5 will be at the Science Museum at 2pm today", "at the Science Museum at 2pm"),
        ("Coach leaves at 9.15am to Chessington World", "at 9.15am to Chessington World"),
        ("Sam is home alone after school", "home alone"),
        ("Sam is at home this week", "is at home"),
        ("Ella walks home on her own", "walks home on her own"),
    ],
)
def test_it_flags_location_leaks_as_advisory(text, span):
    assert (span, "advisory", "AW-IMG-2") in found(text, "location")


def test_it_leaves_ordinary_school_news_without_location_findings():
    assert found("Our summer fair raised £450. Thank you to every family who came!", "location") == []


@pytest.mark.clause("RS-PUB-2")
@pytest.mark.parametrize(
    "text, span",
    [
        ("Use discount code SCHOOL10 at checkout", "discount code"),
        ("Buy my cupcakes at the gate", "Buy my"),
        ("DM me for prices!", "DM me for prices"),
        ("Sign up here https://shop.example.com/join?ref=amelia123", "https://shop.example.com/join?ref=amelia123"),
        ("Check out my Etsy shop", "my Etsy shop"),
    ],
)
def test_it_flags_commercial_promotion(text, span):
    assert (span, "advisory", "RS-PUB-2") in found(text, "commercial")


@pytest.mark.clause("AW-PUB-2")
@pytest.mark.parametrize("text", ["I'll kill you", "watch your back", "i know where you live", "kys"])
def test_it_blocks_threats(text):
    assert found(f"Honestly, {text}.", "threat")[0][1:] == ("blocking", "AW-PUB-2")


@pytest.mark.clause("AW-PUB-2")
@pytest.mark.parametrize(
    "text, kind",
    [
        ("you are so stupid", "offensive"),
        ("nobody likes you", "offensive"),
        ("that fucking teacher", "offensive"),
        ("what a retard", "hate"),
        ("go back to your own country", "hate"),
    ],
)
def test_it_blocks_offensive_hurtful_and_hateful_language(text, kind):
    assert found(text, kind)[0][1:] == ("blocking", "AW-PUB-2")


@pytest.mark.clause("AW-PUB-2")
def test_it_blocks_what_only_the_model_catches_with_its_score():
    findings = found("these hoes aint loyal smh", "offensive")
    assert findings and findings[0][1] == "blocking"
    scored = [f for f in screen("these hoes aint loyal smh", roster=EMPTY) if f.category == "offensive"]
    assert 0.5 <= scored[0].score <= 1


@pytest.mark.parametrize(
    "text",
    [
        "Year 4 had a wonderful time at the farm today.",
        "Reminder: non-uniform day on Friday, bring £1 for charity.",
        "Well done to our football team, who won 3-1 on Saturday!",
        "Parents' evening booking opens on Monday.",
        "Our harvest festival collection will go to the local food bank.",
    ],
)
def test_it_raises_nothing_on_ordinary_school_posts(text):
    assert screen(text, roster=EMPTY) == []
