"""Screening benchmark: throughput, pupil-name recall, offensive-model F1, and Presidio on the same texts.

Run: `.venv/bin/python bench/screening.py` (Presidio part needs `uv sync --group bench`). Bounded to ~1 minute.
Everything is generated from a fixed seed; nothing is downloaded.
"""

from __future__ import annotations

import gc
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from presidio_comparison import measure_presidio, roster_deny_list  # noqa: E402  (bench/, beside this file)

from schoolgate.screening import harms, offensive, train_offensive  # noqa: E402
from schoolgate.screening.engine import ScreeningRules, screen  # noqa: E402
from schoolgate.screening.roster import NICKNAMES, PupilName, Roster  # noqa: E402

SEED = 20261122
PUPILS = 2_000
TEXTS = 2_000

FORENAMES = [
    "Amelia",
    "Olivia",
    "Isla",
    "Ava",
    "Mia",
    "Ivy",
    "Lily",
    "Isabella",
    "Rosie",
    "Sophia",
    "Grace",
    "Freya",
    "Willow",
    "Florence",
    "Emily",
    "Ella",
    "Poppy",
    "Evie",
    "Elsie",
    "Charlotte",
    "Evelyn",
    "Sienna",
    "Sofia",
    "Daisy",
    "Phoebe",
    "Harper",
    "Millie",
    "Ruby",
    "Esme",
    "Matilda",
    "Eliza",
    "Alice",
    "Hazel",
    "Summer",
    "Rose",
    "Aisha",
    "Zara",
    "Maryam",
    "Fatima",
    "Amira",
    "Priya",
    "Ananya",
    "Chloe",
    "Jessica",
    "Elizabeth",
    "Katherine",
    "Abigail",
    "Eleanor",
    "Harriet",
    "Penelope",
    "Victoria",
    "Rebecca",
    "Samantha",
    "Noah",
    "Oliver",
    "George",
    "Arthur",
    "Muhammad",
    "Leo",
    "Harry",
    "Oscar",
    "Archie",
    "Henry",
    "Theodore",
    "Freddie",
    "Jack",
    "Charlie",
    "Theo",
    "Alfie",
    "Jacob",
    "Thomas",
    "Finley",
    "Arlo",
    "William",
    "Lucas",
    "Roman",
    "Tommy",
    "Isaac",
    "Teddy",
    "Alexander",
    "Luca",
    "Edward",
    "James",
    "Joshua",
    "Albie",
    "Elijah",
    "Max",
    "Mohammed",
    "Reggie",
    "Ethan",
    "Benjamin",
    "Daniel",
    "Samuel",
    "Joseph",
    "Matthew",
    "Michael",
    "Christopher",
    "Nicholas",
    "Jonathan",
    "Patrick",
    "Richard",
    "Robert",
    "Stephen",
    "Zachary",
    "Gabriel",
    "Nathaniel",
    "Frederick",
    "Ibrahim",
    "Yusuf",
    "Omar",
    "Ayaan",
    "Arjun",
    "Rohan",
    "Kacper",
    "Jakub",
    "Oskar",
    "Bay",
    "Storm",
    "River",
    "Sky",
]
SURNAMES = [
    "Smith",
    "Jones",
    "Williams",
    "Taylor",
    "Brown",
    "Davies",
    "Evans",
    "Wilson",
    "Thomas",
    "Johnson",
    "Roberts",
    "Robinson",
    "Thompson",
    "Wright",
    "Walker",
    "White",
    "Edwards",
    "Hughes",
    "Green",
    "Hall",
    "Lewis",
    "Harris",
    "Clarke",
    "Patel",
    "Jackson",
    "Wood",
    "Turner",
    "Martin",
    "Cooper",
    "Hill",
    "Ward",
    "Morris",
    "Moore",
    "Clark",
    "Lee",
    "King",
    "Baker",
    "Harrison",
    "Morgan",
    "Allen",
    "James",
    "Scott",
    "Phillips",
    "Watson",
    "Davis",
    "Parker",
    "Price",
    "Bennett",
    "Young",
    "Griffiths",
    "Mitchell",
    "Kelly",
    "Cook",
    "Carter",
    "Richardson",
    "Bailey",
    "Collins",
    "Bell",
    "Shaw",
    "Murphy",
    "Miller",
    "Cox",
    "Richards",
    "Khan",
    "Marshall",
    "Anderson",
    "Simpson",
    "Ellis",
    "Adams",
    "Singh",
    "Begum",
    "Wilkinson",
    "Foster",
    "Chapman",
    "Powell",
    "Webb",
    "Rogers",
    "Gray",
    "Mason",
    "Ali",
    "Hunt",
    "Hussain",
    "Campbell",
    "Matthews",
    "Owen",
    "Palmer",
    "Holmes",
    "Mills",
    "Barnes",
    "Knight",
    "Lloyd",
    "Butler",
    "Russell",
    "Barker",
    "Fisher",
    "Stevens",
    "Jenkins",
    "Murray",
    "Dixon",
    "Harvey",
    "Graham",
    "Pearson",
    "Ahmed",
    "Fletcher",
    "Walsh",
    "Kaur",
    "Gibson",
    "Howard",
    "Andrews",
    "Stewart",
    "Elliott",
    "Reynolds",
    "Saunders",
    "Payne",
    "Fox",
    "Ford",
    "Pearce",
    "Day",
    "Brooks",
    "West",
    "Lawrence",
    "Cole",
    "Atkinson",
    "Bradley",
    "Spencer",
    "Gill",
    "Dawson",
    "Ball",
    "Burton",
    "O'Brien",
    "Watts",
    "Rose",
    "Booth",
    "Perry",
    "Ryan",
    "Grant",
    "Wells",
    "Armstrong",
    "Francis",
    "Rees",
    "Hayes",
    "Hart",
    "Hudson",
    "Newman",
    "Barrett",
    "Webster",
    "Hunter",
    "Gregory",
    "Carr",
    "Lowe",
    "Page",
    "Marsh",
    "Riley",
    "Dennis",
    "Okafor",
    "Nowak",
    "Kowalski",
    "Adeyemi",
    "Mensah",
    "Osei",
    "Chen",
    "Wang",
    "Nguyen",
    "Kaya",
    "Yilmaz",
    "Rossi",
    "Silva",
    "Santos",
    "Costa",
    "Murphy-Jones",
    "Ashworth",
    "Whitfield",
    "Pemberton",
    "Fairclough",
    "Oyelaran",
    "Abara",
    "Lindqvist",
    "Hargreaves",
    "Sutcliffe",
    "Entwistle",
    "Greenwood",
    "Nightingale",
]

STAFF_AND_BOOKS = [
    "Mrs Patel",
    "Mr Khan",
    "Miss Taylor",
    "Mr. Green",
    "Mrs Hughes",
    "Harry Potter",
    "the Gruffalo",
    "Matilda Wormwood",
    "Mr Tumnus",
]
BENIGN = [
    "Year {y} had a wonderful time at the farm today, thank you to all the parent helpers.",
    "Reminder: non-uniform day on Friday, please bring £1 for charity.",
    "Our summer term starts on Monday; the grace period for dinner money ends on {d}.",
    "Well done to our football team, who won {a}-{b} against Hillside on Saturday!",
    "Parents' evening booking opens on Monday. Please see {staff} if you need help.",
    "Year {y} enjoyed reading about {staff} in class this week.",
    "The rose garden looks beautiful after the storm; Hazel Class planted new bulbs.",
    "Harvest festival donations go to the local food bank. Thank you!",
    "Our school choir sang at the Christmas fair and raised £{a}{b}0 for charity.",
    "Sports day is on {d}. Sun cream and water bottles please!",
    "Huge thanks to {staff} for organising the book fair.",
    "Bay windows in the library are being repaired over half term.",
]
MENTION_TEMPLATES = [
    "Congratulations to {name} for a brilliant piece of writing this week!",
    "Star of the week in Year {y} is {name}.",
    "{name} scored the winning goal on Saturday.",
    "Look at {name} reading to the younger children.",
    "So proud of {name} today",
]
PERSONAL = [
    "For tickets call 07700 900{n:03d} or email office@oakfield.sch.uk.",
    "Lost coat handed in, ring +44 7700 900{n:03d}.",
    "Collection from 12 Acacia Avenue, AB1 2CD, on {d}.",
    "Please contact mum.of.{n}@gmail.com for the rota.",
]


def make_roster(rng: random.Random) -> tuple[Roster, list[PupilName]]:
    pupils = []
    for i in range(PUPILS):
        forename, surname = rng.choice(FORENAMES), rng.choice(SURNAMES)
        preferred = rng.choice(NICKNAMES.get(forename.lower(), ("",))).title() if rng.random() < 0.3 else ""
        forenames = (forename, preferred) if preferred else (forename,)
        pupils.append(PupilName(i, forenames, (surname,)))
    return Roster.build(pupils), pupils


def name_variant(rng: random.Random, pupil: PupilName) -> str:
    """One way people write a pupil's name: all of these must be found whatever the naming rule."""
    forename, surname = rng.choice(pupil.forenames), pupil.surnames[0]
    nicknames = NICKNAMES.get(forename.lower())
    kind = rng.randrange(8)
    if kind == 0:
        return f"{forename} {surname}"
    if kind == 1:
        return f"{forename} {surname[0]}."
    if kind == 2:
        return f"{forename} {surname}".lower()
    if kind == 3:
        return f"{forename} {surname}'s"
    if kind == 4:
        return f"#{forename}{surname[0]}"
    if kind == 5:
        return f"#{forename}{surname}".replace(" ", "").replace("'", "")
    if kind == 6 and nicknames:
        return f"{rng.choice(nicknames).title()} {surname}"
    return f"{forename.upper()} {surname.upper()}"


def make_texts(rng: random.Random, pupils: list[PupilName]) -> tuple[list[str], list[tuple[int, int, int]], list[int]]:
    """Texts; (text index, start, end) of each name mention; indexes of benign texts."""
    texts, mentions, benign = [], [], []
    for i in range(TEXTS):
        fill = {
            "y": rng.randint(1, 6),
            "d": f"{rng.randint(1, 28)} June",
            "a": rng.randint(0, 5),
            "b": rng.randint(0, 5),
        }
        fill["staff"] = rng.choice(STAFF_AND_BOOKS)
        fill["n"] = rng.randint(0, 999)
        roll = i % 20
        if roll < 9:  # 45 % benign
            benign.append(len(texts))
            texts.append(rng.choice(BENIGN).format(**fill))
        elif roll < 16:  # 35 % name mentions
            variant = name_variant(rng, rng.choice(pupils))
            template = rng.choice(MENTION_TEMPLATES)
            before = template.split("{name}")[0].format(**fill)
            text = template.format(name=variant, **fill)
            mentions.append((len(texts), len(before), len(before) + len(variant.removesuffix("'s"))))
            texts.append(text)
        else:
            texts.append(rng.choice(PERSONAL).format(**fill))
    return texts, mentions, benign


def measure_engine(texts, roster, rules, *, passes: int = 5) -> dict:
    """Steady-state figures: one warm-up pass (loads the model, warms regex caches), then `passes` timed
    passes over all texts; throughput is the median pass, latency percentiles pool every timed text."""
    results = [screen(text, roster=roster, rules=rules) for text in texts]
    rates, timings = [], []
    gc.disable()
    for _ in range(passes):
        started = time.perf_counter()
        for text in texts:
            t0 = time.perf_counter_ns()
            screen(text, roster=roster, rules=rules)
            timings.append(time.perf_counter_ns() - t0)
        rates.append(len(texts) / (time.perf_counter() - started))
    gc.enable()
    timings.sort()
    return {
        "texts_per_s": statistics.median(rates),
        "p50_us": statistics.median(timings) / 1000,
        "p99_us": timings[int(len(timings) * 0.99) - 1] / 1000,
        "results": results,
    }


def name_recall(results, mentions) -> tuple[float, list]:
    missed = []
    for index, start, end in mentions:
        spans = [(f.start, f.end) for f in results[index] if f.category == "pupil_name"]
        if not any(s <= start + 1 and e >= end - 1 for s, e in spans):
            missed.append(index)
    return 1 - len(missed) / len(mentions), missed


def offensive_f1() -> dict | None:
    path = train_offensive.DEFAULT_DATA
    if not path.exists():
        return None
    rows = [row for row in train_offensive.load_rows(path) if train_offensive.is_test_row(row[0])]
    model_only = train_offensive.evaluate(offensive.shipped_model(), rows)
    tp = fp = fn = 0
    empty = Roster.build([])
    for _, text, label in rows:
        flagged = any(f.category in harms.ABUSIVE for f in screen(text, roster=empty))
        tp += flagged and label
        fp += flagged and not label
        fn += (not flagged) and label
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    combined = {"precision": precision, "recall": recall, "f1": 2 * precision * recall / (precision + recall)}
    return {"model": model_only, "screen": combined, "n": len(rows)}


def verdict(ok: bool) -> str:
    return "MEETS" if ok else "MISSES"


def main() -> None:
    rng = random.Random(SEED)  # noqa: S311 - fixed seed for repeatable test data, not security
    t0 = time.perf_counter()
    roster, pupils = make_roster(rng)
    build_ms = (time.perf_counter() - t0) * 1000
    texts, mentions, benign = make_texts(rng, pupils)
    rules = ScreeningRules(naming_rule="no_names")  # strictest rule: every name mention must be reported
    offensive.shipped_model()  # load outside the timing
    screen("warm up", roster=roster, rules=rules)

    print(f"Roster: {PUPILS} pupils, {roster.size} name variants, built in {build_ms:.0f} ms")
    print(f"Texts: {len(texts)} ({len(mentions)} with a pupil-name mention, {len(benign)} benign)\n")

    engine = measure_engine(texts, roster, rules)
    tps, p99 = engine["texts_per_s"], engine["p99_us"]
    print("Schoolgate screening (one core, full screen: names, personal data, location, commercial, offensive)")
    print(
        f"  throughput  {tps:>10,.0f} texts/s   target >= 10,000/s   {verdict(tps >= 10_000)}"
        "   (median of 5 timed passes after a warm-up pass)"
    )
    print(f"  latency     p50 {engine['p50_us']:.1f} us, p99 {p99:.1f} us   target p99 < 2 ms   {verdict(p99 < 2000)}")
    recall, missed = name_recall(engine["results"], mentions)
    print(
        f"  name recall {recall:.4f} ({len(mentions) - len(missed)}/{len(mentions)})   target >= 0.99   "
        f"{verdict(recall >= 0.99)}"
    )
    for index in missed[:5]:
        print(f"    missed: {texts[index]!r}")
    false_names = sum(any(f.category == "pupil_name" for f in engine["results"][i]) for i in benign)
    any_blocking = sum(any(f.is_blocking for f in engine["results"][i]) for i in benign)
    print(
        f"  benign texts with a pupil-name hit: {false_names}/{len(benign)}; with any blocking finding: "
        f"{any_blocking}/{len(benign)}"
    )

    figures = offensive_f1()
    if figures is None:
        print("\nOffensive model: ../shared/data/davidson/labeled_data.csv not found, F1 skipped")
    else:
        model, combined = figures["model"], figures["screen"]
        print(f"\nOffensive language, held-out Davidson rows (index % 5 == 0, never trained on; n={figures['n']}):")
        print(f"  shipped model alone  P {model['precision']:.3f}  R {model['recall']:.3f}  F1 {model['f1']:.3f}")
        print(
            f"  model + word lists   P {combined['precision']:.3f}  R {combined['recall']:.3f}  "
            f"F1 {combined['f1']:.3f}  (tweets, not school comments: a floor)"
        )

    print("\nMicrosoft Presidio analyzer, same texts")
    for label, roster_names in [
        ("pattern recognisers only (finds no pupil names: not the same job)", None),
        (
            "given the roster, so it looks for pupils' names as Schoolgate does (like for like)",
            roster_deny_list(pupils),
        ),
    ]:
        presidio = measure_presidio(texts, roster_names=roster_names)
        if "skipped" in presidio:
            print(f"  SKIPPED: {presidio['skipped']}")
            break
        ratio = tps / presidio["texts_per_s"]
        print(f"  {label}")
        print(f"    engine      {presidio['engine']}")
        print(
            f"    throughput  {presidio['texts_per_s']:,.0f} texts/s on {presidio['n']} texts; "
            f"p50 {presidio['p50_us']:.0f} us, p99 {presidio['p99_us']:.0f} us"
        )
        print(f"    Schoolgate / Presidio = {ratio:,.1f}x   target >= 20x   {verdict(ratio >= 20)}")
    print(f"\nTotal bench time {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
