"""SYNTHETIC recordings for the linking benchmark, with the generator's truth.

Rows are shaped like the `recordings` rows the real parsers write (see the sample run's
`musicbrainz:recording:*` and `internetarchive:item:78_*` rows): one side is catalogue
records (MusicBrainz-like: performer names as written, label and catalog number of the
first issue, no matrix), the other side is 78 rpm transfers (Great 78-like: performers
often "Surname, Forename", matrix and take, titles with side/take noise, sometimes several
transfers of one side). Label names are real 78 labels; every title, name and number is
made up.

The noise is what makes linking hard on the real thing:
- discs have two sides sharing label, catalog number and often performers;
- popular titles were recorded by several performers in the same years;
- transfers have typos, missing catalog numbers or years, reordered names and
  "(From ...)" / "- Side A" / "(Take 2)" decorations;
- some sides were transferred twice, some are in one source only.

`entity` is the truth: records with the same entity are the same recording.
"""

from __future__ import annotations

import random
import uuid
from pathlib import Path

import polars as pl

GENERATOR_VERSION = 2  # bump when the rows change, so cached files are made again

LABELS = [
    "Victor", "Columbia", "Edison", "Brunswick", "Okeh", "Gennett", "Vocalion", "Decca",
    "Bluebird", "Peter Pan", "Zonophone", "Emerson", "Paramount", "Perfect", "Banner",
    "Harmony", "Cameo", "Pathé", "Black Swan", "Melotone", "Champion", "Romeo", "Oriole",
    "Conqueror", "Vogue", "Capitol", "Mercury", "MGM", "Coral", "Savoy",
]  # fmt: skip
_WORD_TEXT = (
    "love heart moon night blue sweet home river dream baby old june rose waltz girl song "
    "little day time down town march way rag blues sunshine kiss star memories lonely dixie "
    "mother sailing honey valley christmas summer garden shadows sweetheart trouble steal away "
    "deep mountain golden silver yesterday tomorrow evening morning serenade lullaby ballad "
    "dance jazz swing rhythm parade holiday wedding spring autumn winter paradise harbor "
    "island ocean train whistle bells angel devil wonder moonlight alabama georgia carolina "
    "tennessee kentucky virginia texas mississippi missouri ohio broadway harlem chicago "
    "memphis orleans savannah tulip daisy violet lily poppy clover apple cherry peach lemon "
    "coffee candy sugar cotton railroad steamboat cabin porch window door gate road lane "
    "street bridge church chapel school college soldier sailor cowboy gypsy pirate captain "
    "colonel darling dearie mammy daddy sister brother cousin uncle neighbor stranger "
    "lover friend sweetie baby doll kitten puppy bird robin bluebird nightingale canary "
    "eagle dove swallow rain snow wind storm thunder lightning sun cloud sky heaven earth "
    "fire water ice gold diamond pearl ruby silk satin velvet lace ribbon bonnet slipper "
    "shoes hat cane fiddle banjo piano trumpet drum bugle horn harp guitar organ choir "
    "hymn prayer psalm hallelujah glory jubilee revival camp meeting picnic party ball "
    "cotillion polka mazurka tango fox trot shimmy blackbottom charleston cakewalk two step "
    "one remember forget forever never always only again together alone goodbye hello "
    "goodnight dreaming smiling crying laughing singing dancing waiting wandering roaming "
    "rolling rocking swinging shaking stepping strutting rambling gambling wishing longing"
)
WORDS = _WORD_TEXT.split()
_FORENAME_TEXT = (
    "Oscar Billy Ada Bessie Harry Elsie Walter Lucy Olive Henry Ethel Arthur Mamie Vernon "
    "Ruth Fred Irene Charles Marion Frank Grace Lewis Edna Ted Clara Reinald Ben Alma "
    "George Mary John Anna William Helen James Margaret Robert Florence Joseph Alice Thomas "
    "Rose Edward Lillian Samuel Mabel Albert Hazel Louis Gladys Ernest Pearl Eddie Sophie"
)
FORENAMES = _FORENAME_TEXT.split()
_STEMS = "Mur Sea Bak Rog Mar Kli Wat Col Har Dal Stew Whit Lop Wee Val Arm Hen Mor Wil Ber"
_ENDS = "ray gle er ers sh ne ers lins lan hart art eman ez ms lee strong derson ton liams nard"
SURNAMES = [s + e for s in _STEMS.split() for e in _ENDS.split()]
SHOWS = ["Follies of 1917", "A Modern Eve", "Sally", "Show Boat", "The Band Wagon"]


def write_link_sample(path: Path, per_side: int, seed: int = 1917) -> Path:
    """Write `per_side` catalogue records and about as many transfers to a parquet file."""
    rng = random.Random(seed)
    rows: list[dict[str, object]] = []
    people = [_person(rng) for _ in range(per_side // 4 + 50)]
    titles = [_title(rng) for _ in range(per_side // 3 + 50)]
    entity = catalogue = 0
    while catalogue < per_side:
        # One disc: two sides, same label and catalog number, usually the same performers.
        label = rng.choice(LABELS)
        catalog = f"{rng.choice(['', 'A', 'B-', ''])}{rng.randint(100, 99999)}"
        year = rng.randint(1900, 1955)
        performers = [_prolific(rng, people) for _ in range(rng.choice([1, 1, 1, 2, 3]))]
        matrix_base = rng.randint(1000, 99999)
        for side in "ab":
            entity += 1
            side_performers = performers if rng.random() < 0.8 else [_prolific(rng, people)]
            truth = {
                "entity": entity,
                "title": rng.choice(titles),  # popular titles recur across performers
                "performers": side_performers,
                "label": label,
                "catalog": catalog,
                "year": year,
                "day": f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                "matrix": f"{rng.choice(['', 'B-', 'W', 'C-'])}{matrix_base + (side == 'b')}",
                "take": str(rng.randint(1, 6)),
                "duration": round(rng.uniform(140, 200), 1),
            }
            if rng.random() < 0.9:
                rows.append(_catalogue_record(rng, truth))
                catalogue += 1
            transfers = 0 if rng.random() < 0.1 else (2 if rng.random() < 0.1 else 1)
            for copy in range(transfers):
                rows.append(_transfer(rng, truth, copy, side))
    frame = pl.DataFrame(rows, infer_schema_length=None).with_columns(
        year=pl.col("date").str.slice(0, 4).cast(pl.Int32)
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.write_parquet(path)
    return path


def _person(rng: random.Random) -> str:
    initial = f" {chr(rng.randint(65, 90))}." if rng.random() < 0.4 else ""
    return f"{rng.choice(FORENAMES)}{initial} {rng.choice(SURNAMES)}"


def _prolific(rng: random.Random, people: list[str]) -> str:
    """A performer: a fifth of sides go to 200 stars (thousands of sides each at 1e6, like
    Billy Murray or the Victor house bands), the rest to a long tail."""
    return people[rng.randrange(200 if rng.random() < 0.2 else len(people))]


def _title(rng: random.Random) -> str:
    words = rng.sample(WORDS, rng.randint(2, 5))
    return " ".join(
        w.capitalize() if i == 0 or rng.random() < 0.6 else w for i, w in enumerate(words)
    )


def _catalogue_record(rng: random.Random, truth: dict) -> dict[str, object]:
    return {
        "record_id": f"musicbrainz:recording:{uuid.UUID(int=rng.getrandbits(128))}",
        "source": "musicbrainz",
        "entity": truth["entity"],
        "title": truth["title"],
        "artists": truth["performers"],
        "date": str(truth["year"]) if rng.random() < 0.95 else None,
        "label": truth["label"] if rng.random() < 0.8 else None,
        "catalog_number": truth["catalog"] if rng.random() < 0.75 else None,
        "matrix": None,
        "take": None,
        "duration_s": truth["duration"] if rng.random() < 0.6 else None,
    }


def _transfer(rng: random.Random, truth: dict, copy: int, side: str) -> dict[str, object]:
    title = truth["title"]
    if rng.random() < 0.1:
        title = _typo(rng, title)
    roll = rng.random()
    if roll < 0.05:
        title += f' (From "{rng.choice(SHOWS)}")'
    elif roll < 0.1:
        title += f" - Side {side.upper()}"
    elif roll < 0.13:
        title += f" (Take {truth['take']})"
    performers = [
        f"{p.split()[-1]}, {' '.join(p.split()[:-1])}" if rng.random() < 0.5 else p
        for p in truth["performers"]
    ]
    rng.shuffle(performers)
    slug = "-".join(title.lower().split())[:40]
    number = rng.randint(0, 9_999_999)
    duration = truth["duration"] + rng.uniform(-2.5, 2.5) if rng.random() < 0.9 else None
    return {
        "record_id": f"internetarchive:item:78_{slug}_gbia{number:07d}{side}{copy or ''}",
        "source": "internetarchive",
        "entity": truth["entity"],
        "title": title,
        "artists": performers,
        "date": _transfer_date(rng, truth),
        "label": truth["label"] if rng.random() < 0.95 else None,
        "catalog_number": truth["catalog"] if rng.random() < 0.8 else None,
        "matrix": truth["matrix"] if rng.random() < 0.8 else None,
        "take": truth["take"] if rng.random() < 0.6 else None,
        "duration_s": round(duration, 2) if duration else None,
    }


def _transfer_date(rng: random.Random, truth: dict) -> str | None:
    """The recording day for some transfers (from a discography), a year for others."""
    roll = rng.random()
    if roll < 0.3:
        return truth["day"]
    if roll < 0.7:
        return str(truth["year"] + (rng.random() < 0.05))
    return None


def _typo(rng: random.Random, text: str) -> str:
    i = rng.randrange(1, len(text) - 1)
    if rng.random() < 0.5:
        return text[:i] + text[i + 1 :]
    return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
