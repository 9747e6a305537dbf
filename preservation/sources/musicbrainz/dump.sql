-- MusicBrainz JSON data-dump lines -> sightings (source_records, source_holdings, source_works,
-- source_artists), in DuckDB SQL so that millions of lines never pass through Python.
--
-- The rules are those of parse.py (the web-service parser), which the tests hold them to: the
-- same real entities imported from a dump file and harvested live give the same rows.
-- Sections start with "-- section: <name>"; dump.py runs them in order for each chunk of lines,
-- over the temp table dump_docs (the chunk's lines, each with `problem`: why it cannot be
-- used, or NULL). $import_id and $raw_key are bound per chunk.

-- section: macros
CREATE OR REPLACE TEMP MACRO mb_text(v) AS nullif(trim(v), '');

CREATE OR REPLACE TEMP MACRO mb_texts(vs) AS
    list_filter([mb_text(v) FOR v IN coalesce(vs, [])], lambda v: v IS NOT NULL);

-- A plausible calendar prefix only (clean_date in sources/base.py): '1953', '1953-10',
-- '1953-10-11' after ASCII whitespace; a bad month or day (30 February) falls back to the
-- coarser date, a bad year gives NULL.
CREATE OR REPLACE TEMP MACRO mb_date(v) AS list_transform(
    [regexp_extract(v, '^[\t\n\v\f\r ]*([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2}))?)?',
                    ['y', 'm', 'd'])],
    lambda d: CASE
        WHEN NOT coalesce(TRY_CAST(d.y AS INTEGER) BETWEEN 1000 AND 2999, false) THEN NULL
        WHEN NOT coalesce(TRY_CAST(d.m AS INTEGER) BETWEEN 1 AND 12, false) THEN d.y
        WHEN TRY_CAST(d.y || '-' || d.m || '-' || d.d AS DATE) IS NULL
            THEN d.y || '-' || d.m
        ELSE d.y || '-' || d.m || '-' || d.d
    END
)[1];

-- An MBID: a UUID (parse.py's _id).
CREATE OR REPLACE TEMP MACRO mb_valid_id(v) AS coalesce(regexp_full_match(
    v, '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}'), false);

CREATE OR REPLACE TEMP MACRO mb_artists(credits) AS
    list_filter([coalesce(mb_text(c.name), mb_text(c.artist.name)) FOR c IN coalesce(credits, [])],
                lambda n: n IS NOT NULL);

-- A JSON number, as a DOUBLE (a boolean or a string of digits is no number: sources/base.py).
CREATE OR REPLACE TEMP MACRO mb_number(v) AS
    CASE WHEN json_type(v) IN ('BIGINT', 'UBIGINT', 'DOUBLE') THEN TRY_CAST(v AS DOUBLE) END;

-- Milliseconds (JSON) -> seconds, positive and finite (parse.py's _duration): DuckDB ranks
-- NaN above every number.
CREATE OR REPLACE TEMP MACRO mb_duration(ms) AS list_transform(
    [mb_number(ms)], lambda n: CASE WHEN n > 0 AND isfinite(n) THEN n / 1000.0 END
)[1];

-- url relationships: where the entity can be found (an ended one is kept, not live).
CREATE OR REPLACE TEMP MACRO mb_is_link(r) AS
    r."target-type" = 'url' AND mb_text(r.url.resource) IS NOT NULL
    AND mb_text(r.type) IS NOT NULL;

CREATE OR REPLACE TEMP MACRO mb_ended_note(r) AS
    CASE WHEN r.ended THEN trim('relationship ended ' || coalesce(mb_text(r."end"), '')) END;

CREATE OR REPLACE TEMP MACRO mb_links(rels) AS [
    {'url': mb_text(r.url.resource), 'relation_type': mb_text(r.type),
     'live': NOT coalesce(r.ended, false), 'status_note': mb_ended_note(r)}
    FOR r IN coalesce(rels, []) IF mb_is_link(r)
];

CREATE OR REPLACE TEMP MACRO mb_related_works(rels) AS
    [r.work FOR r IN coalesce(rels, []) IF r."target-type" = 'work'];

-- Authors of a work: its artist relationships of a writing type. dump.py puts parse.py's
-- WRITER_TYPES in place of :writer_types, so both parsers share one list.
CREATE OR REPLACE TEMP MACRO mb_is_writer(r) AS
    r."target-type" = 'artist' AND mb_text(r.type) IN :writer_types;

CREATE OR REPLACE TEMP MACRO mb_writers(rels) AS [
    {'role': mb_text(r.type),
     'artist_id': 'musicbrainz:artist:' || r.artist.id,
     'name': coalesce(mb_text(r.artist."sort-name"), mb_text(r.artist.name))}
    FOR r IN coalesce(rels, []) IF mb_is_writer(r)
];

CREATE OR REPLACE TEMP MACRO mb_bad_writers(rels) AS
    list_bool_or([NOT mb_valid_id(r.artist.id) FOR r IN coalesce(rels, []) IF mb_is_writer(r)]);

CREATE OR REPLACE TEMP MACRO mb_bad_works(rels) AS
    list_bool_or([NOT mb_valid_id(w.id) OR coalesce(mb_bad_writers(w.relations), false)
                  FOR w IN mb_related_works(rels)]);

-- section: problem_recording
CASE
    WHEN NOT mb_valid_id(id) THEN 'recording without a valid ''id'''
    WHEN len(relations) = 0 THEN NULL
    WHEN mb_bad_works(relations) THEN 'work relationship without a valid work or writer id'
END

-- section: problem_release
CASE
    WHEN NOT mb_valid_id(id) THEN 'release without a valid ''id'''
    WHEN list_bool_or([NOT mb_valid_id(t.recording.id) OR mb_bad_works(t.recording.relations)
                       FOR t IN flatten([coalesce(m.tracks, []) FOR m IN coalesce(media, [])])
                       IF t.recording IS NOT NULL])
        THEN 'track recording without a valid id, or with an invalid work relationship'
END

-- section: problem_work
CASE
    WHEN NOT mb_valid_id(id) THEN 'work without a valid ''id'''
    WHEN mb_bad_writers(relations) THEN 'writer relationship without a valid artist id'
END

-- section: problem_artist
CASE WHEN NOT mb_valid_id(id) THEN 'artist without a valid ''id''' END

-- section: stage_recording
-- A recording line: the recording, its url holdings and the works it performs.
CREATE OR REPLACE TEMP VIEW dump_recordings AS
SELECT NULL::VARCHAR AS document, 0 AS pos, id, title, "artist-credit" AS credits, isrcs,
       length, mb_date("first-release-date") AS date,
       CASE WHEN date IS NOT NULL THEN 'first-release-date' END AS date_source,
       NULL::VARCHAR AS country, relations,
       NULL::VARCHAR AS release_label, NULL::VARCHAR AS release_catalog,
       NULL::VARCHAR AS release_format, NULL::VARCHAR[] AS release_artists,
       NULL::VARCHAR AS track_title, NULL::JSON AS track_length,
       []::STRUCT(url VARCHAR, relation_type VARCHAR, live BOOLEAN, status_note VARCHAR)[]
           AS release_links
FROM dump_docs WHERE problem IS NULL;

-- section: stage_release
-- A release line: each track's recording, with what it inherits from the release (date,
-- label and catalog number, format, artists, url holdings). A release without a tracklist is
-- kept as itself, so its holdings are not lost.
CREATE OR REPLACE TEMP TABLE dump_releases AS
SELECT id, mb_text(title) AS title, mb_artists("artist-credit") AS artists,
       mb_date(date) AS date, mb_text(country) AS country,
       list_filter(coalesce("label-info", []),
                   lambda i: mb_text(i.label.name) IS NOT NULL
                             OR mb_text(i."catalog-number") IS NOT NULL)[1] AS info,
       list_filter([mb_text(m.format) FOR m IN coalesce(media, [])],
                   lambda f: f IS NOT NULL)[1] AS format,
       list_filter(flatten([coalesce(m.tracks, []) FOR m IN coalesce(media, [])]),
                   lambda t: t.recording IS NOT NULL) AS tracks,
       mb_links(relations) AS links
FROM dump_docs WHERE problem IS NULL;

INSERT INTO source_records BY NAME
SELECT $import_id AS import_id, $raw_key AS raw_key, 0 AS pos,
       'musicbrainz:release:' || id AS record_id, 'musicbrainz' AS source, 'release' AS kind,
       id AS source_id, title, artists, date, country,
       CASE WHEN date IS NOT NULL THEN 'published' END AS date_kind,
       CASE WHEN date IS NOT NULL THEN 'release date' END AS date_source,
       mb_text(info.label.name) AS label, mb_text(info."catalog-number") AS catalog_number,
       [] AS isrcs, format AS medium_format, [id] AS release_ids, [] AS external_ids,
       'https://musicbrainz.org/release/' || id AS page_url, [] AS work_ids
FROM dump_releases WHERE len(tracks) = 0;

INSERT INTO source_holdings BY NAME
SELECT $import_id AS import_id, $raw_key AS raw_key,
       'musicbrainz:release:' || id AS record_id, l.url, l.relation_type, l.live, l.status_note
FROM (SELECT id, unnest(links) AS l FROM dump_releases WHERE len(tracks) = 0);

-- The date a track's recording is published: its own first release date or the release's,
-- whichever is earlier (ties go to 'first-release-date', as in parse.py).
CREATE OR REPLACE TEMP TABLE dump_recordings AS
SELECT id AS document, n - 1 AS pos, t.recording.id AS id, t.recording.title AS title,
       t.recording."artist-credit" AS credits, t.recording.isrcs AS isrcs,
       t.recording.length AS length, earliest.date AS date, earliest.source AS date_source,
       CASE WHEN earliest.date = date THEN country END AS country,
       t.recording.relations AS relations,
       mb_text(info.label.name) AS release_label,
       mb_text(info."catalog-number") AS release_catalog, format AS release_format,
       artists AS release_artists, mb_text(t.title) AS track_title,
       t.length AS track_length, links AS release_links
FROM (
    SELECT *, list_sort(list_filter(
                  [{'date': mb_date(t.recording."first-release-date"),
                    'source': 'first-release-date'},
                   {'date': date, 'source': 'release ' || id || ' date'}],
                  lambda d: d.date IS NOT NULL))[1] AS earliest
    FROM (SELECT *, unnest(tracks) AS t, generate_subscripts(tracks, 1) AS n
          FROM dump_releases WHERE len(tracks) > 0)
);

-- section: stage_work
CREATE OR REPLACE TEMP VIEW dump_works AS
SELECT NULL::VARCHAR AS document, 0 AS pos,
       {'id': id, 'title': title, 'iswcs': iswcs, 'relations': relations} AS w
FROM dump_docs WHERE problem IS NULL;

-- section: stage_artist
INSERT INTO source_artists BY NAME
SELECT $import_id AS import_id, $raw_key AS raw_key, 0 AS pos,
       'musicbrainz:artist:' || id AS artist_id, 'musicbrainz' AS source, id AS source_id,
       mb_text(name) AS name, mb_text("sort-name") AS sort_name, mb_text(type) AS type,
       mb_text(country) AS country, mb_date("life-span".begin) AS begin_date,
       mb_date("life-span"."end") AS end_date, "life-span".ended AS ended
FROM dump_docs WHERE problem IS NULL;

-- section: recordings
-- Shared by recording and release lines: dump_recordings -> sightings. What the recording
-- lacks, its release gives.
INSERT INTO source_records BY NAME
SELECT $import_id AS import_id, $raw_key AS raw_key, document, pos,
       'musicbrainz:recording:' || id AS record_id, 'musicbrainz' AS source,
       'recording' AS kind, id AS source_id,
       coalesce(mb_text(title), track_title) AS title,
       CASE WHEN len(artists) > 0 THEN artists ELSE coalesce(release_artists, []) END
           AS artists,
       date, CASE WHEN date IS NOT NULL THEN 'published' END AS date_kind, date_source, country,
       release_label AS label, release_catalog AS catalog_number,
       list_sort(list_distinct(mb_texts(isrcs))) AS isrcs,
       coalesce(mb_duration(length), mb_duration(track_length)) AS duration_s,
       release_format AS medium_format,
       CASE WHEN document IS NULL THEN [] ELSE [document] END AS release_ids,
       [] AS external_ids,
       'https://musicbrainz.org/recording/' || id AS page_url,
       CASE WHEN len(relations) = 0 THEN []
            ELSE ['musicbrainz:work:' || w.id FOR w IN mb_related_works(relations)] END
           AS work_ids
FROM (SELECT *, mb_artists(credits) AS artists FROM dump_recordings);

INSERT INTO source_holdings BY NAME
SELECT $import_id AS import_id, $raw_key AS raw_key, document,
       'musicbrainz:recording:' || id AS record_id,
       mb_text(r.url.resource) AS url, mb_text(r.type) AS relation_type,
       NOT coalesce(r.ended, false) AS live, mb_ended_note(r) AS status_note
FROM (SELECT document, id, unnest(relations) AS r FROM dump_recordings
      WHERE len(relations) > 0)
WHERE mb_is_link(r)
UNION ALL
SELECT $import_id, $raw_key, document, 'musicbrainz:recording:' || id,
       l.url, l.relation_type, l.live, l.status_note
FROM (SELECT document, id, unnest(release_links) AS l FROM dump_recordings
      WHERE len(release_links) > 0);

CREATE OR REPLACE TEMP TABLE dump_works AS
SELECT document, pos, unnest(mb_related_works(relations)) AS w
FROM dump_recordings WHERE len(relations) > 0;

-- section: works
-- Shared by work lines and the works recordings perform: dump_works -> sightings.
INSERT INTO source_works BY NAME
SELECT $import_id AS import_id, $raw_key AS raw_key, document, pos,
       'musicbrainz:work:' || w.id AS work_id, 'musicbrainz' AS source, w.id AS source_id,
       mb_text(w.title) AS title, mb_texts(w.iswcs) AS iswcs, mb_writers(w.relations) AS writers
FROM dump_works;
