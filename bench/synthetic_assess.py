"""SYNTHETIC input for the assess + report benchmark: the tables `assess` reads, made directly.

Nothing here describes a real recording: every id, title, name, number and url is made up.
The rows skip harvest, normalize and link and go straight into a database created with
`preservation.store.connect` (so the schema is the real one), shaped like the rows of the
bundled real sample (`preservation run`) and of a MusicBrainz dump import:

- `recordings`, about 1.39 per cluster, from three sources:
  - `musicbrainz:recording:<MBID>` (71 per 100 clusters): performers as written, a published
    date ('YYYY', 'YYYY-MM' or 'YYYY-MM-DD'; `first-release-date` or a release's date; one in
    ten is a later reissue), often label, catalog number and release ids, rarely an ISRC,
    no matrix; page and provenance (`release.tar.xz:mbdump/release#<release>`) as a dump
    import writes them;
  - `internetarchive:item:78_<title-slug>_<performer-slug>_gbia<n><side>` (60 per 100): Great
    78 transfers, performers often "Surname, Forename", title decorations ("- Side A",
    '(From "...")'), published year, label, "catalog side", matrix, take, side, duration;
  - `loc:item:jukebox-<n>` (8 per 100): National Jukebox items, sentence-case titles,
    "Surname, Forename", the recording day (`date_kind` 'recorded'), matrix and take.
  Cluster shapes: MusicBrainz alone 40%, archive item alone 24%, MusicBrainz + item 22%,
  MusicBrainz + two transfers 6%, LoC alone 4%, and small shares of the other mixes. Years:
  1900-1965 with the 78 era's hump in the 1920s (1900s 8%, 1910s 17%, 1920s 30%, 1930s 17%,
  1940s 14%, 1950s 11%, 1960-65 3%), about 5% of records without a date. Songs recur (a
  third of clusters perform one of 2,000 standards), and so do performers (a fifth of
  sides go to 200 stars), labels (Victor and Columbia lead) and names.
- `clusters`: cluster_id is `'c' || sha1(smallest record id)[:12]`, as `link` makes it.
  `recordings` rows are written in cluster order (a real database has a cluster's records
  scattered); the other tables' rows come in whatever order DuckDB's threads give them.
- `holdings`: every archive item has its page as an `open_archive` 'archive item' (2% of IA
  items dark, 1% of LoC items restricted: not live, with the parsers' notes); MusicBrainz
  recordings have 0-4 url relationships (none for 55%: catalogue only) drawn from a mix of
  Discogs, DAHR, Wikidata, AllMusic, SecondHandSongs, Spotify, Apple Music, iTunes, Deezer,
  YouTube, Bandcamp, Amazon, Tidal, SoundCloud, archive.org, the UCSB cylinders and Commons
  links, classified by preservation/data/platforms.csv and relationship_types.csv exactly as
  normalize classifies them; 3% of them ended or no longer listed (not live, with the note).
- `works`, `recording_works` (60% of MusicBrainz recordings, to their song's work),
  `work_writers` (a composer or writer, half of them a lyricist too) and `artists` (the
  writers: mostly people, life spans with deaths 1850-2000, about 30% with no death date).

Everything is made by set-based DuckDB SQL: rows come from range(), and every "random"
choice is DuckDB's hash() of the row's numbers (cluster c, record n = 3c + k), a tag and SEED,
so the same size, seed and DuckDB version give the same table contents. The tables after
`recordings` read c and k back from the record ids (a MusicBrainz record's MBID ends with its
number, scrambled) instead of keeping them in a side table. Databases are cached under
bench/data/ (ignored by git) as assess-v<GENERATOR_VERSION>-<size>.duckdb, with their
generation time and row counts beside them (.json); bump GENERATOR_VERSION when rows change.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import duckdb

from bench import child
from bench.synthetic_link import FORENAMES, LABELS, SURNAMES, WORDS

GENERATOR_VERSION = 1  # bump when the rows change, so cached databases are made again
SEED = 1925

# Labels, the big ones repeated so that they lead as they did.
_LABEL_MIX = ["Victor"] * 8 + ["Columbia"] * 6 + ["Edison", "Brunswick", "Okeh", "Decca"] * 2
_LABEL_MIX += LABELS
# (share of clusters, sources of the cluster's records in order)
CLUSTER_SHAPES = [
    (40, ["musicbrainz"]),
    (24, ["internetarchive"]),
    (22, ["musicbrainz", "internetarchive"]),
    (6, ["musicbrainz", "internetarchive", "internetarchive"]),
    (4, ["loc"]),
    (2, ["musicbrainz", "loc"]),
    (1, ["internetarchive", "loc"]),
    (1, ["musicbrainz", "internetarchive", "loc"]),
]
# (weight, platforms.csv domain, MusicBrainz relationship type, url prefix)
URL_RELATIONS = [
    (19, "discogs.com", "discogs", "https://www.discogs.com/release/"),
    (6, "adp.library.ucsb.edu", "other databases", "https://adp.library.ucsb.edu/index.php/mastertalent/detail/"),
    (4, "wikidata.org", "wikidata", "https://www.wikidata.org/wiki/Q"),
    (3, "secondhandsongs.com", "secondhandsongs", "https://secondhandsongs.com/performance/"),
    (3, "allmusic.com", "allmusic", "https://www.allmusic.com/song/mt"),
    (14, "open.spotify.com", "free streaming", "https://open.spotify.com/track/"),
    (7, "music.apple.com", "streaming", "https://music.apple.com/us/album/"),
    (3, "itunes.apple.com", "purchase for download", "https://itunes.apple.com/us/album/"),
    (8, "deezer.com", "free streaming", "https://www.deezer.com/track/"),
    (12, "youtube.com", "free streaming", "https://www.youtube.com/watch?v="),
    (3, "bandcamp.com", "purchase for download", "https://shellac78.bandcamp.com/track/"),
    (2, "bandcamp.com", "free streaming", "https://shellac78.bandcamp.com/track/"),
    (4, "amazon.com", "amazon asin", "https://www.amazon.com/gp/product/"),
    (2, "music.amazon.com", "streaming", "https://music.amazon.com/albums/"),
    (2, "tidal.com", "streaming", "https://tidal.com/browse/track/"),
    (2, "soundcloud.com", "free streaming", "https://soundcloud.com/shellac78/"),
    (4, "archive.org", "download for free", "https://archive.org/details/78_"),
    (1, "cylinders.library.ucsb.edu", "download for free", "https://cylinders.library.ucsb.edu/mp3s/"),
    (1, "commons.wikimedia.org", "download for free", "https://commons.wikimedia.org/wiki/File:"),
]  # fmt: skip
JUKEBOX_RIGHTS = (
    "Inclusion of the recording in the National Jukebox, courtesy of Sony Music Entertainment "
    "or EMI Music"
)
PD_MARK = "http://creativecommons.org/publicdomain/mark/1.0/"
ENDED_NOTE = "no longer listed by the source (listed in the response stored 2025-06-14)"
# A MusicBrainz record's number n hides in the last 12 hex digits of its MBID as n * MIX mod
# 2**48 (MIX odd, so the map is one to one), so later statements read n back from the id.
MIX = 25_214_903_917
UNMIX = pow(MIX, -1, 2**48)


def database_path(data: Path, clusters: int) -> Path:
    """Where the cached database of `clusters` clusters lives."""
    return data / f"assess-v{GENERATOR_VERSION}-{clusters}.duckdb"


def cached_database(data: Path, clusters: int) -> tuple[Path, dict[str, object]]:
    """The cached database of `clusters` clusters (generated when missing), and what its
    generation took: {"generate_s", "db_mb", "rows": {table: count}}."""
    path = database_path(data, clusters)
    info = path.with_suffix(".json")
    if not (path.exists() and info.exists()):
        partial = path.with_suffix(".partial")
        for stale in (partial, Path(f"{partial}.wal")):
            stale.unlink(missing_ok=True)
        started = time.perf_counter()
        rows = child.in_own_process(generate, partial, clusters)
        seconds = round(time.perf_counter() - started, 1)
        partial.rename(path)
        db_mb = round(path.stat().st_size / 2**20, 1)
        info.write_text(json.dumps({"generate_s": seconds, "db_mb": db_mb, "rows": rows}) + "\n")
        print(f"generated {clusters:,} synthetic clusters in {seconds} s: {db_mb:,} MB {rows}")
    return path, json.loads(info.read_text())


def generate(path: Path, clusters: int, seed: int = SEED) -> dict[str, int]:
    """Write `clusters` synthetic clusters and everything assess reads into a new database
    at `path`; returns the row count of each table written."""
    from preservation import store
    from preservation.normalize import load_classification

    con = store.connect(path)
    try:
        con.execute("SET enable_progress_bar = false")
        # Generating is not what is measured: at 1e7 clusters the joins below need more than
        # the 2 GB that assess gets (a quarter of the RAM, 2 to 8 GB).
        ram_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
        con.execute(f"SET memory_limit = '{max(2, min(8, int(ram_gib / 4)))}GB'")
        load_classification(con)
        for statement in _statements(clusters, seed):
            con.execute(statement)
        _check(con, clusters)
        con.execute("CHECKPOINT")
        tables = [
            "recordings",
            "clusters",
            "holdings",
            "works",
            "recording_works",
            "work_writers",
            "artists",
        ]
        return {t: int(str(store.scalar(con, f"SELECT count(*) FROM {t}"))) for t in tables}
    finally:
        con.close()


def _check(con: duckdb.DuckDBPyConnection, clusters: int) -> None:
    """Record ids must be unique (else the numbers read back from them are wrong); cluster
    ids are 48-bit digests, as link makes them, so at 1e7 clusters two may collide."""
    dupes, found = con.execute(
        "SELECT (SELECT count(*) - count(DISTINCT record_id) FROM recordings), "
        "(SELECT count(DISTINCT cluster_id) FROM clusters)"
    ).fetchone()
    if dupes:
        raise RuntimeError(f"the generator made {dupes} duplicate record ids")
    if found != clusters:
        print(f"note: {clusters - found} cluster ids collide (48-bit digests, as link makes them)")


def _list(values: list[str | None]) -> str:
    """A SQL list literal."""
    quoted = ("NULL" if v is None else "'" + v.replace("'", "''") + "'" for v in values)
    return "[" + ", ".join(quoted) + "]"


def _statements(clusters: int, seed: int) -> list[str]:
    songs = max(clusters // 3, 2_050)  # distinct songs (works); the first 2,000 are standards
    performers = max(clusters // 4, 250)  # the first 200 are stars
    writers = max(clusters // 40, 100)  # composers and lyricists
    shapes = [
        (i, sum(w for w, _ in CLUSTER_SHAPES[: i + 1]), k + 1, src)
        for i, (_, sources) in enumerate(CLUSTER_SHAPES)
        for k, src in enumerate(sources)
    ]
    shape_rows = ", ".join(f"({i}, {upper}, {k}, '{src}')" for i, upper, k, src in shapes)
    bounds = sorted({(i, upper) for i, upper, _, _ in shapes})
    shape_case = " ".join(f"WHEN u(c, 'shape') * 100 < {upper} THEN {i}" for i, upper in bounds)
    menu = ", ".join(
        f"({i}, '{domain}', '{rel}', '{prefix}')"
        for i, (_, domain, rel, prefix) in enumerate(URL_RELATIONS)
    )
    menu_mix = [i for i, (w, *_) in enumerate(URL_RELATIONS) for _ in range(w)]
    titled = [w.capitalize() for w in WORDS]
    return [
        # h: a pseudo-random BIGINT (>= 0) for a row's numbers and a tag; u: uniform in
        # [0, 1); pick: an element of a list.
        f"CREATE OR REPLACE TEMP MACRO h(a, b) AS (hash(a, b, {seed}) >> 1)::BIGINT",
        f"CREATE OR REPLACE TEMP MACRO h3(a, b, c) AS (hash(a, b, c, {seed}) >> 1)::BIGINT",
        "CREATE OR REPLACE TEMP MACRO u(a, b) AS (h(a, b) % 1000003) / 1000003.0",
        "CREATE OR REPLACE TEMP MACRO u3(a, b, c) AS (h3(a, b, c) % 1000003) / 1000003.0",
        "CREATE OR REPLACE TEMP MACRO pick(xs, n) AS xs[1 + (n % len(xs))::BIGINT]",
        # A version-4-shaped UUID from two 64-bit hashes; a record's MBID carries its number.
        f"""CREATE OR REPLACE TEMP MACRO mbid(a, b) AS printf(
               '%08x-%04x-4%03x-%04x-%012x', hash(a, b, 'hi', {seed}) >> 32,
               (hash(a, b, 'hi', {seed}) >> 16) & 65535, hash(a, b, 'hi', {seed}) & 4095,
               32768 | ((hash(a, b, 'lo', {seed}) >> 48) & 16383),
               hash(a, b, 'lo', {seed}) & 281474976710655)""",
        f"""CREATE OR REPLACE TEMP MACRO record_mbid(n) AS mbid(n, 'recording')[:24]
               || printf('%012x', (n::HUGEINT * {MIX}) % 281474976710656)""",
        # A record's number n = 3 * cluster + k (its k-th record, k = 1, 2, 3), from its id.
        f"""CREATE OR REPLACE TEMP MACRO record_n(id) AS CASE
               WHEN starts_with(id, 'musicbrainz:') THEN
                   ((('0x' || right(id, 12))::BIGINT::HUGEINT * {UNMIX}) % 281474976710656)
                   ::BIGINT
               WHEN starts_with(id, 'loc:') THEN split_part(id, 'jukebox-', 2)::BIGINT - 1000
               ELSE left(split_part(id, '_gbia', 2), -1)::BIGINT END""",
        f"CREATE OR REPLACE TEMP MACRO shape_of(c) AS CASE {shape_case} END",
        # The song a cluster performs: a third of them one of 2,000 standards.
        f"""CREATE OR REPLACE TEMP MACRO song_of(c) AS CASE
               WHEN u(c, 'std') < 0.33 THEN h(c, 'song') % 2000
               ELSE h(c, 'song') % {songs} END""",
        f"CREATE OR REPLACE TEMP MACRO word(n) AS pick({_list(titled)}, n)",
        f"CREATE OR REPLACE TEMP MACRO forename(n) AS pick({_list(FORENAMES)}, n)",
        f"CREATE OR REPLACE TEMP MACRO surname(n) AS pick({_list(SURNAMES)}, n)",
        f"CREATE OR REPLACE TEMP MACRO label_name(n) AS pick({_list(_LABEL_MIX)}, n)",
        # Two to five words.
        """CREATE OR REPLACE TEMP MACRO song_title(s) AS concat_ws(' ',
               word(h3(s, 1, 'w')), word(h3(s, 2, 'w')),
               CASE WHEN h(s, 'words') % 4 >= 1 THEN word(h3(s, 3, 'w')) END,
               CASE WHEN h(s, 'words') % 4 >= 2 THEN word(h3(s, 4, 'w')) END,
               CASE WHEN h(s, 'words') % 4 >= 3 THEN word(h3(s, 5, 'w')) END)""",
        # A performer: forename (with an initial for some) and surname.
        """CREATE OR REPLACE TEMP MACRO given(p) AS forename(h(p, 'fore'))
               || CASE WHEN u(p, 'init') < 0.3 THEN ' ' || chr(65 + (h(p, 'ini') % 26)::INTEGER)
                       || '.' ELSE '' END""",
        "CREATE OR REPLACE TEMP MACRO family(p) AS surname(h(p, 'sur'))",
        f"""CREATE OR REPLACE TEMP MACRO performer(c, i) AS CASE
               WHEN u3(c, i, 'star') < 0.2 THEN h3(c, i, 'ps') % 200
               ELSE h3(c, i, 'pl') % {performers} END""",
        # Titles and names hold letters, spaces, commas and dots only: a slug needs no regex
        # (and IA identifiers are ASCII: "Pathé" -> "pathe").
        """CREATE OR REPLACE TEMP MACRO slug(t) AS
               replace(replace(replace(strip_accents(lower(t)), ',', ''), '.', ''), ' ', '-')""",
        # The clusters (a table, not range(), so that the statements below run in parallel)
        # and their shapes: one row per record, cluster c's k-th record from source src.
        f"""CREATE OR REPLACE TEMP TABLE gen_clusters AS
            SELECT range AS c, shape_of(range) AS shape FROM range({clusters})""",
        f"CREATE OR REPLACE TEMP TABLE shapes (shape INTEGER, upper INTEGER, k INTEGER, "
        f"src VARCHAR); INSERT INTO shapes VALUES {shape_rows}",
        # Stage by stage, so that each value is computed once: DuckDB substitutes a column
        # alias reused in the same SELECT, and a macro, by its whole expression, and inlines
        # the CTEs too unless one of them is MATERIALIZED (which halves the time).
        """
        INSERT INTO recordings BY NAME
        WITH members AS (  -- cluster c, its k-th record, from source src
            SELECT c, s.k, s.src, c * 3 + s.k AS n
            FROM gen_clusters JOIN shapes s USING (shape)
        ),
        draws AS MATERIALIZED (  -- the cluster's numbers: what its records agree on, more or less
            SELECT *,
                   song_of(c) AS song,
                   CASE WHEN u(c, 'npf') < 0.7 THEN 1 WHEN u(c, 'npf') < 0.9 THEN 2 ELSE 3 END
                       AS n_performers,
                   label_name(h(c, 'label')) AS base_label,
                   pick(['', '', 'A', 'B-', 'V-'], h(c, 'catpre'))
                       || (100 + h(c, 'cat') % 99900) AS base_catalog,
                   pick(['', 'B-', 'W', 'C-', 'BVE-'], h(c, 'mxpre'))
                       || (1000 + h(c, 'mx') % 150000) AS base_matrix,
                   (1 + h(c, 'take') % 6)::VARCHAR AS base_take,
                   CASE WHEN u(c, 'side') < 0.5 THEN 'A' ELSE 'B' END AS base_side,
                   round(140 + (h(c, 'dur') % 60000) / 1000.0, 2) AS base_duration,
                   u(c, 'dec') AS decade_draw,
                   printf('%02d-%02d', 1 + h(c, 'mon') % 12, 1 + h(c, 'day') % 28) AS base_day,
                   u3(c, k, 'a') AS ua, u3(c, k, 'b') AS ub, u3(c, k, 'c') AS uc,
                   u3(c, k, 'd') AS ud, u3(c, k, 'e') AS ue
            FROM members
        ),
        truth AS (
            SELECT * EXCLUDE (decade_draw),
                   song_title(song) AS base_title,
                   given(performer(c, 0)) AS given1, family(performer(c, 0)) AS family1,
                   CASE WHEN n_performers >= 2 THEN given(performer(c, 1)) END AS given2,
                   CASE WHEN n_performers >= 2 THEN family(performer(c, 1)) END AS family2,
                   CASE WHEN n_performers >= 3 THEN given(performer(c, 2)) END AS given3,
                   CASE WHEN n_performers >= 3 THEN family(performer(c, 2)) END AS family3,
                   (CASE WHEN decade_draw < 0.08 THEN 1900 WHEN decade_draw < 0.25 THEN 1910
                         WHEN decade_draw < 0.55 THEN 1920 WHEN decade_draw < 0.72 THEN 1930
                         WHEN decade_draw < 0.86 THEN 1940 WHEN decade_draw < 0.97 THEN 1950
                         ELSE 1960 END
                    + h(c, 'yr') % CASE WHEN decade_draw < 0.97 THEN 10 ELSE 6 END)::INTEGER
                       AS base_year,
                   CASE WHEN u(c, 'ensemble') < 0.1 THEN h(c, 'ens') % 3 END AS ensemble_kind
            FROM draws
        ),
        sourced AS (  -- each source's own rendering of the cluster
            SELECT *,
                   [p FOR p IN CASE WHEN src = 'loc' OR (src = 'internetarchive' AND ua < 0.5)
                        THEN [family1 || ', ' || given1, family2 || ', ' || given2,
                              family3 || ', ' || given3]
                        ELSE [given1 || ' ' || family1, given2 || ' ' || family2,
                              given3 || ' ' || family3] END
                    IF p IS NOT NULL]
                   || CASE ensemble_kind
                       WHEN 0 THEN ['The ' || base_label || ' Orchestra']
                       WHEN 1 THEN [base_label || ' Light Opera Company']
                       WHEN 2 THEN [family(c + 7) || ' Quartet']
                       ELSE [] END AS performers,
                   CASE src
                       WHEN 'loc' THEN upper(base_title[1]) || lower(base_title[2:])
                       WHEN 'internetarchive' THEN base_title || CASE
                           WHEN ub < 0.05 THEN ' (From "' || song_title(h(song, 'show')) || '")'
                           WHEN ub < 0.10 THEN ' - Side ' || base_side
                           ELSE '' END
                       ELSE base_title END AS title,
                   CASE src
                       WHEN 'musicbrainz' THEN CASE
                           WHEN uc < 0.04 THEN NULL
                           WHEN uc < 0.14 THEN least(base_year + 1 + h3(c, k, 'later') % 60, 2024)
                           ELSE base_year END
                       WHEN 'internetarchive' THEN CASE
                           WHEN uc < 0.07 THEN NULL
                           ELSE base_year + (uc > 0.97)::INTEGER END
                       ELSE CASE WHEN uc < 0.01 THEN NULL
                                 ELSE base_year - (uc > 0.7)::INTEGER END
                   END AS year,
                   CASE WHEN src = 'musicbrainz' THEN list_transform(
                           range(CASE WHEN ud < 0.1 THEN 0 WHEN ud < 0.8 THEN 1 ELSE 2 END),
                           lambda i: mbid(n, 'release' || i))
                        ELSE [] END AS release_ids,
                   src AS source,
                   CASE src WHEN 'musicbrainz' THEN 'recording' ELSE 'item' END AS kind
            FROM truth
        ),
        named AS (
            SELECT *,
                   CASE src
                       WHEN 'musicbrainz' THEN record_mbid(n)
                       WHEN 'internetarchive' THEN '78_' || left(slug(base_title), 50) || '_'
                           || left(slug(array_to_string(performers, ' ')), 40) || '_gbia'
                           || printf('%07d', n) || lower(base_side)
                       ELSE 'jukebox-' || (n + 1000) END AS source_id,
                   CASE WHEN src = 'loc' OR (src = 'internetarchive' AND ue < 0.95)
                             OR (src = 'musicbrainz' AND len(release_ids) > 0 AND ue < 0.55)
                        THEN base_label END AS label
            FROM sourced
        )
        SELECT source, kind, source_id, title, year, release_ids, label,
               source || ':' || kind || ':' || source_id AS record_id,
               performers AS artists,
               CASE WHEN year IS NULL THEN NULL
                    WHEN src = 'loc' OR (src = 'internetarchive' AND ua < 0.15)
                         OR (src = 'musicbrainz' AND ua < 0.25)
                        THEN year || '-' || base_day
                    WHEN src = 'musicbrainz' AND ua < 0.4 THEN year || '-' || base_day[:2]
                    ELSE year::VARCHAR END AS date,
               CASE WHEN year IS NULL THEN NULL
                    WHEN src = 'loc' THEN 'recorded' ELSE 'published' END AS date_kind,
               CASE WHEN year IS NULL THEN NULL
                    WHEN src = 'loc' THEN 'recording_date'
                    WHEN src = 'internetarchive' THEN 'metadata date'
                    WHEN len(release_ids) > 0 AND ub < 0.3
                        THEN 'release ' || release_ids[1] || ' date'
                    ELSE 'first-release-date' END AS date_source,
               CASE WHEN src = 'musicbrainz' THEN pick(
                   ['US', 'US', 'US', 'US', 'US', 'US', 'US', 'US', 'US', 'US', 'GB', 'GB',
                    'GB', 'XW', 'DE', 'FR', NULL, NULL, NULL, NULL], h3(c, k, 'country'))
                    END AS country,
               CASE WHEN label IS NULL OR ud >= 0.85 THEN NULL
                    WHEN src = 'internetarchive' AND ue < 0.5
                        THEN base_catalog || ' ' || base_side
                    ELSE base_catalog END AS catalog_number,
               CASE WHEN (src = 'loc' AND ub < 0.95) OR (src = 'internetarchive' AND ub < 0.7)
                    THEN base_matrix END AS matrix,
               CASE WHEN (src = 'loc' AND uc < 0.9) OR (src = 'internetarchive' AND uc < 0.4)
                    THEN base_take END AS take,
               CASE WHEN src = 'internetarchive' THEN base_side END AS side,
               CASE WHEN src = 'musicbrainz' AND ue > 0.98
                    THEN ['US' || pick(['SM1', 'VI1', 'CO1', 'DE1'], h(c, 'isrcpre'))
                          || printf('%08d', h(c, 'isrc') % 100000000)]
                    ELSE [] END AS isrcs,
               CASE WHEN (src = 'musicbrainz' AND ud < 0.6) OR (src = 'loc' AND ud < 0.5)
                    THEN base_duration
                    WHEN src = 'internetarchive' AND ud < 0.9
                    THEN round(base_duration - 2.5 + (h3(c, k, 'jit') % 5000) / 1000.0, 2)
                    END AS duration_s,
               CASE src
                   WHEN 'internetarchive' THEN '78 rpm disc'
                   WHEN 'musicbrainz' THEN CASE WHEN len(release_ids) > 0 THEN pick(
                       ['Shellac', 'Shellac', '10" Shellac', '10" Shellac', '12" Shellac', 'CD',
                        'Digital Media', NULL], h3(c, k, 'medium')) END
                   END AS medium_format,
               []::VARCHAR[] AS external_ids,
               CASE src
                   WHEN 'musicbrainz' THEN 'https://musicbrainz.org/recording/' || source_id
                   WHEN 'internetarchive' THEN 'https://archive.org/details/' || source_id
                   ELSE 'https://www.loc.gov/item/' || source_id || '/' END AS page_url,
               [CASE src
                   WHEN 'musicbrainz' THEN CASE WHEN len(release_ids) > 0
                       THEN 'release.tar.xz:mbdump/release#' || release_ids[1]
                       ELSE 'recording.tar.xz:mbdump/recording' END
                   WHEN 'internetarchive' THEN 'metadata_api/' || source_id || '.json'
                   ELSE 'item/' || source_id || '.json' END] AS raw_keys
        FROM named
        """,
        # recordings are written in cluster order; the other tables' rows may come in any
        # order (their contents are the same every time), which is twice as fast.
        "SET preserve_insertion_order = false",
        # The records with their cluster and place in it, read back from their ids.
        """
        CREATE OR REPLACE TEMP VIEW gen AS
        SELECT *, (n - 1) // 3 AS c, (n - 1) % 3 + 1 AS k
        FROM (SELECT record_id, source, page_url, raw_keys, record_n(record_id) AS n
              FROM recordings)
        """,
        """
        INSERT INTO clusters
        SELECT f.cluster_id, g.record_id
        FROM gen g
        JOIN (SELECT c, 'c' || sha1(min(record_id))[:12] AS cluster_id FROM gen GROUP BY c) f
          USING (c)
        """,
        # Archive items: their own page, an open archive.
        f"""
        INSERT INTO holdings BY NAME
        SELECT record_id, page_url AS url,
               CASE source WHEN 'loc' THEN 'Library of Congress' ELSE 'Internet Archive' END
                   AS platform,
               'open_archive' AS access_class, false AS closed_garden,
               'archive item' AS relation_type,
               NOT gone AS live,
               CASE WHEN gone AND source = 'loc' THEN 'access restricted at loc.gov'
                    WHEN gone THEN 'item is dark (withdrawn from view)' END AS status_note,
               raw_keys[1] AS evidence,
               CASE WHEN source = 'internetarchive' AND u3(c, k, 'cf') < 0.9 THEN 'lossless'
                    WHEN source = 'internetarchive' THEN 'lossy'
                    WHEN u3(c, k, 'cf') < 0.5 THEN 'lossless' END AS copy_format,
               CASE WHEN source = 'loc' THEN '{JUKEBOX_RIGHTS}'
                    WHEN u3(c, k, 'lic') < 0.2 THEN '{PD_MARK}' END AS rights_statement
        FROM (SELECT *, u3(c, k, 'gone') < CASE source WHEN 'loc' THEN 0.01 ELSE 0.02 END
                            AS gone
              FROM gen WHERE source <> 'musicbrainz')
        """,
        # MusicBrainz recordings: url relationships, classified as normalize does.
        f"""
        CREATE OR REPLACE TEMP TABLE url_menu (pick INTEGER, domain VARCHAR,
                                               relation_type VARCHAR, prefix VARCHAR);
        INSERT INTO url_menu VALUES {menu}
        """,
        f"""
        INSERT INTO holdings BY NAME
        WITH rels AS (
            SELECT record_id, raw_keys[1] AS evidence, c, k, i,
                   pick({menu_mix}, h3(c * 3 + k, i, 'url')) AS pick
            FROM (SELECT *, unnest(range(CASE WHEN u3(c, k, 'nurl') < 0.55 THEN 0
                                              WHEN u3(c, k, 'nurl') < 0.80 THEN 1
                                              WHEN u3(c, k, 'nurl') < 0.92 THEN 2
                                              WHEN u3(c, k, 'nurl') < 0.97 THEN 3
                                              ELSE 4 END)) AS i
                  FROM gen WHERE source = 'musicbrainz')
        )
        SELECT r.record_id,
               m.prefix || printf('%x', h3(c * 3 + k, i, 'urlid') >> 20) AS url,
               p.platform, coalesce(p.access_class, t.access_class) AS access_class,
               p.closed_garden, m.relation_type,
               u3(c * 3 + k, i, 'ended') >= 0.03 AS live,
               CASE WHEN u3(c * 3 + k, i, 'ended') < 0.02
                        THEN 'relationship ended ' || (1995 + h3(c, i, 'end') % 30)
                    WHEN u3(c * 3 + k, i, 'ended') < 0.03 THEN '{ENDED_NOTE}' END
                   AS status_note,
               r.evidence
        FROM rels r
        JOIN url_menu m USING (pick)
        JOIN platforms p USING (domain)
        LEFT JOIN relationship_types t USING (relation_type)
        """,
        # Works: each song recorded is a work; 60% of MusicBrainz recordings name theirs.
        """
        INSERT INTO recording_works
        SELECT record_id, 'musicbrainz:work:' || mbid(song_of(c), 'work')
        FROM gen WHERE source = 'musicbrainz' AND u3(c, k, 'work') < 0.6
        """,
        f"""
        CREATE OR REPLACE TEMP TABLE gen_works AS
        SELECT DISTINCT song_of(c) AS song
        FROM gen_clusters JOIN shapes s USING (shape)
        WHERE s.src = 'musicbrainz' AND u3(c, s.k, 'work') < 0.6;
        CREATE OR REPLACE TEMP TABLE gen_writers AS
        SELECT song, role, w, 'musicbrainz:artist:' || mbid(w, 'artist') AS artist_id,
               family(w + 11) || ', ' || given(w + 11) AS name
        FROM (
            SELECT song, CASE WHEN u(song, 'wrole') < 0.8 THEN 'composer' ELSE 'writer' END
                       AS role,
                   CASE WHEN u(song, 'wstar') < 0.3 THEN h(song, 'wc') % 100
                        ELSE h(song, 'wc') % {writers} END AS w
            FROM gen_works
            UNION ALL
            SELECT song, 'lyricist', CASE WHEN u(song, 'lstar') < 0.3 THEN h(song, 'lc') % 100
                                          ELSE h(song, 'lc') % {writers} END
            FROM gen_works WHERE u(song, 'lyrics') < 0.5
        )
        """,
        """
        INSERT INTO work_writers
        SELECT DISTINCT 'musicbrainz:work:' || mbid(song, 'work'), role, artist_id, name
        FROM gen_writers
        """,
        """
        INSERT INTO works BY NAME
        SELECT 'musicbrainz:work:' || mbid(song, 'work') AS work_id, 'musicbrainz' AS source,
               mbid(song, 'work') AS source_id, song_title(song) AS title,
               CASE WHEN u(song, 'iswc') < 0.05
                    THEN ['T-' || printf('%09d', h(song, 'iswcn') % 1000000000)[:3] || '.'
                          || printf('%09d', h(song, 'iswcn') % 1000000000)[4:6] || '.'
                          || printf('%09d', h(song, 'iswcn') % 1000000000)[7:9] || '-'
                          || (h(song, 'iswcn') % 10)]
                    ELSE [] END AS iswcs,
               coalesce(list_sort(list(DISTINCT name)
                   FILTER (WHERE role IN ('composer', 'writer'))), []) AS composers,
               coalesce(list_sort(list(DISTINCT name) FILTER (WHERE role = 'lyricist')), [])
                   AS lyricists,
               ['release.tar.xz:mbdump/release'] AS raw_keys
        FROM gen_writers GROUP BY song
        """,
        # The writers, with their life spans: deaths 1850-2000, 30% unknown; some groups.
        """
        INSERT INTO artists BY NAME
        SELECT artist_id, 'musicbrainz' AS source, artist_id[20:] AS source_id,
               given(w + 11) || ' ' || family(w + 11) AS name, name AS sort_name,
               CASE WHEN u(w, 'group') < 0.04 THEN 'Group' WHEN u(w, 'type') < 0.03 THEN NULL
                    ELSE 'Person' END AS type,
               pick(['US', 'US', 'US', 'GB', 'DE', 'FR', 'AT', 'IT', NULL], h(w, 'ctry'))
                   AS country,
               CASE WHEN u(w, 'born') < 0.9
                    THEN (died - 35 - h(w, 'age') % 55)::VARCHAR END AS begin_date,
               CASE WHEN u(w, 'dead') >= 0.3 THEN CASE WHEN u(w, 'dfmt') < 0.7
                    THEN died || '-' || printf('%02d-%02d', 1 + h(w, 'dm') % 12,
                                               1 + h(w, 'dd') % 28)
                    ELSE died::VARCHAR END END AS end_date,
               u(w, 'dead') >= 0.3 AS ended,
               ['artist.tar.xz:mbdump/artist'] AS raw_keys
        FROM (SELECT DISTINCT w, artist_id, name,
                     (1850 + h(w, 'died') % 151)::INTEGER AS died FROM gen_writers)
        """,
    ]
