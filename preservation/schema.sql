-- The preservation database: a public interface, documented in README.md ("Tables").
-- Every statement is idempotent so that opening an existing database re-applies nothing harmful.
-- Bump SCHEMA_VERSION in store.py when a table changes shape, and add a migration there.

CREATE TABLE IF NOT EXISTS schema_info (
    key   VARCHAR PRIMARY KEY,
    value VARCHAR NOT NULL
);

-- One row per harvest run of one source: what was asked, what came back, what was kept.
CREATE TABLE IF NOT EXISTS harvest_log (
    run_id       INTEGER PRIMARY KEY,
    source       VARCHAR NOT NULL,
    transport    VARCHAR NOT NULL,      -- 'folder' (saved responses) or 'live'
    scope        VARCHAR NOT NULL,      -- folder path, query, MBID list ...
    started_at   TIMESTAMP NOT NULL,     -- UTC
    finished_at  TIMESTAMP,              -- UTC
    status       VARCHAR NOT NULL,      -- running | ok | failed
    payloads     INTEGER DEFAULT 0,     -- responses read
    new_payloads INTEGER DEFAULT 0,     -- responses whose content had not been stored before
    skipped      INTEGER DEFAULT 0,     -- responses about something other than recordings
    quarantined  INTEGER DEFAULT 0,
    message      VARCHAR
);

ALTER TABLE harvest_log ADD COLUMN IF NOT EXISTS entities INTEGER DEFAULT 0;  -- schema 2

-- Where each live harvest scope got to, so an interrupted harvest resumes with no gap and no
-- duplicate. A finished scope harvested again starts over (and stores what changed).
CREATE TABLE IF NOT EXISTS harvest_checkpoints (
    source     VARCHAR NOT NULL,
    scope      VARCHAR NOT NULL,       -- e.g. 'label:<MBID>', 'query:<text>', 'recording:<MBID>'
    position   INTEGER NOT NULL,       -- offset of the next page to fetch
    total      INTEGER,                -- entities in the scope, as the service last said
    done       BOOLEAN NOT NULL,
    run_id     INTEGER NOT NULL,       -- harvest_log.run_id that last moved it
    updated_at TIMESTAMP NOT NULL,     -- UTC
    PRIMARY KEY (source, scope)
);
-- schema 5: the opaque cursor of the next page, for services that page by cursor (IA scrape).
ALTER TABLE harvest_checkpoints ADD COLUMN IF NOT EXISTS cursor VARCHAR;

-- Every response exactly as received. A key gets a new row only when its content changes,
-- so earlier snapshots stay available to tell what changed or vanished.
CREATE TABLE IF NOT EXISTS raw_records (
    source         VARCHAR NOT NULL,
    key            VARCHAR NOT NULL,    -- stable identity of the request (URL path+query, or file path)
    snapshot       INTEGER NOT NULL,    -- harvest_log.run_id that first stored this content
    fetched_at     TIMESTAMP NOT NULL,  -- UTC
    request        VARCHAR NOT NULL,    -- full URL or file path the payload came from
    content_sha256 VARCHAR NOT NULL,
    payload        VARCHAR NOT NULL,    -- the response body, byte-identical (UTF-8)
    PRIMARY KEY (source, key, snapshot)
);

-- Responses (or lines) that could not be parsed. Nothing is dropped silently.
CREATE TABLE IF NOT EXISTS quarantine (
    source         VARCHAR NOT NULL,
    key            VARCHAR NOT NULL,
    content_sha256 VARCHAR NOT NULL,
    stage          VARCHAR NOT NULL,    -- harvest | normalize | import
    reason         VARCHAR NOT NULL,
    payload        VARCHAR,             -- the offending payload or line (invalid UTF-8 replaced)
    first_seen_run INTEGER NOT NULL,
    PRIMARY KEY (source, key, content_sha256)
);

-- One row per import of a MusicBrainz JSON data-dump entity file (mbdump/<entity>). An import
-- commits chunk by chunk, so an interrupted one resumes at lines_done. Its rows count only once
-- it is complete; then it supersedes the previous import of the same entity.
CREATE TABLE IF NOT EXISTS dump_imports (
    import_id      INTEGER PRIMARY KEY,
    run_id         INTEGER NOT NULL,    -- harvest_log.run_id of the run that started it
    source         VARCHAR NOT NULL,
    entity         VARCHAR NOT NULL,    -- recording | release | work | artist
    path           VARCHAR NOT NULL,    -- the .tar.xz archive or the extracted file, as given
    member         VARCHAR NOT NULL,    -- 'mbdump/<entity>' inside the archive, or the file name
    dump_timestamp VARCHAR,             -- the archive's TIMESTAMP file, when it has one
    lines_done     BIGINT NOT NULL,     -- lines read and committed so far (the resume point)
    rows_staged    BIGINT NOT NULL,     -- entities staged into source_* tables
    quarantined    BIGINT NOT NULL,     -- lines quarantined
    status         VARCHAR NOT NULL,    -- running | complete | superseded
    started_at     TIMESTAMP NOT NULL,  -- UTC
    finished_at    TIMESTAMP            -- UTC
);

-- Normalize's input: every sighting of a record, work or artist in a source document, before
-- sightings of the same thing are merged. import_id NULL: read from raw_records (rebuilt by
-- every normalize); otherwise the dump import that wrote it. raw_key names the payload or the
-- dump file; `document` the dump line when the sighting is not its line's own entity (the
-- release MBID for a release's tracks). `pos` orders sightings within one document.
CREATE TABLE IF NOT EXISTS source_records (
    import_id      INTEGER,
    raw_key        VARCHAR NOT NULL,
    document       VARCHAR,
    pos            INTEGER NOT NULL,
    record_id      VARCHAR NOT NULL,
    source         VARCHAR NOT NULL,
    kind           VARCHAR NOT NULL,
    source_id      VARCHAR NOT NULL,
    title          VARCHAR,
    artists        VARCHAR[],
    date           VARCHAR,
    date_kind      VARCHAR,
    date_source    VARCHAR,
    label          VARCHAR,
    catalog_number VARCHAR,
    matrix         VARCHAR,
    take           VARCHAR,
    side           VARCHAR,
    isrcs          VARCHAR[],
    duration_s     DOUBLE,
    medium_format  VARCHAR,
    release_ids    VARCHAR[],
    external_ids   VARCHAR[],
    page_url       VARCHAR,
    work_ids       VARCHAR[]
);
CREATE TABLE IF NOT EXISTS source_holdings (
    import_id     INTEGER,
    raw_key       VARCHAR NOT NULL,
    document      VARCHAR,
    record_id     VARCHAR NOT NULL,
    url           VARCHAR NOT NULL,
    relation_type VARCHAR NOT NULL,
    live          BOOLEAN NOT NULL,
    status_note   VARCHAR
);
ALTER TABLE source_holdings ADD COLUMN IF NOT EXISTS copy_format VARCHAR;       -- schema 6
ALTER TABLE source_holdings ADD COLUMN IF NOT EXISTS rights_statement VARCHAR;  -- schema 6
CREATE TABLE IF NOT EXISTS source_works (
    import_id INTEGER,
    raw_key   VARCHAR NOT NULL,
    document  VARCHAR,
    pos       INTEGER NOT NULL,
    work_id   VARCHAR NOT NULL,
    source    VARCHAR NOT NULL,
    source_id VARCHAR NOT NULL,
    title     VARCHAR,
    iswcs     VARCHAR[],
    writers   STRUCT(role VARCHAR, artist_id VARCHAR, name VARCHAR)[]
);
CREATE TABLE IF NOT EXISTS source_artists (
    import_id  INTEGER,
    raw_key    VARCHAR NOT NULL,
    document   VARCHAR,
    pos        INTEGER NOT NULL,
    artist_id  VARCHAR NOT NULL,
    source     VARCHAR NOT NULL,
    source_id  VARCHAR NOT NULL,
    name       VARCHAR,
    sort_name  VARCHAR,
    type       VARCHAR,
    country    VARCHAR,
    begin_date VARCHAR,
    end_date   VARCHAR,
    ended      BOOLEAN
);

-- One row per source record (a MusicBrainz recording or release, an archive item ...), normalized.
CREATE TABLE IF NOT EXISTS recordings (
    record_id      VARCHAR NOT NULL,    -- '<source>:<kind>:<id>' (unique)
    source         VARCHAR NOT NULL,
    kind           VARCHAR NOT NULL,    -- recording | release | item
    source_id      VARCHAR NOT NULL,    -- MBID, archive identifier, loc.gov item id
    title          VARCHAR,
    artists        VARCHAR[],
    date           VARCHAR,             -- earliest known date as given: 'YYYY', 'YYYY-MM' or 'YYYY-MM-DD'
    year           INTEGER,
    date_source    VARCHAR,             -- which field the date came from
    label          VARCHAR,
    catalog_number VARCHAR,
    matrix         VARCHAR,
    take           VARCHAR,
    side           VARCHAR,
    isrcs          VARCHAR[],
    duration_s     DOUBLE,
    medium_format  VARCHAR,
    release_ids    VARCHAR[],           -- MusicBrainz releases this record appears on
    external_ids   VARCHAR[],           -- identifiers it carries for other sources: 'mb_release:<mbid>' ...
    page_url       VARCHAR,             -- the record's own page at its source
    date_kind      VARCHAR,             -- published | recorded: what the date means
    raw_keys       VARCHAR[]            -- raw_records keys it was read from (provenance)
);

-- Where a copy of a recording can be heard or obtained (or, for catalogue_only, where it is documented).
CREATE TABLE IF NOT EXISTS holdings (
    record_id     VARCHAR NOT NULL,
    url           VARCHAR NOT NULL,
    platform      VARCHAR NOT NULL,
    access_class  VARCHAR NOT NULL,     -- open_archive | free_stream | paid_stream | store | catalogue_only
    closed_garden BOOLEAN,              -- commercial platform that decides alone what stays (NULL: unknown)
    relation_type VARCHAR,              -- MusicBrainz url-relationship type, or the source's own kind
    live          BOOLEAN NOT NULL,     -- false: ended relationship, dark or withdrawn item
    status_note   VARCHAR,              -- why it is not live, when it is not
    evidence      VARCHAR NOT NULL      -- raw_records key (or dump file) that says so
    -- unique: (record_id, url, relation_type)
);
-- schema 7: the country of first publication (rights depend on it).
ALTER TABLE recordings ADD COLUMN IF NOT EXISTS country VARCHAR;      -- of the release out on `date`
ALTER TABLE source_records ADD COLUMN IF NOT EXISTS country VARCHAR;
-- schema 6: what kind of copy a holding is, and the rights statement it carries.
ALTER TABLE holdings ADD COLUMN IF NOT EXISTS copy_format VARCHAR;       -- lossless | lossy | NULL: unknown
ALTER TABLE holdings ADD COLUMN IF NOT EXISTS rights_statement VARCHAR;  -- licence URL or rights text, as given

-- Musical works and who wrote them (for the composition layer of rights).
CREATE TABLE IF NOT EXISTS works (
    work_id    VARCHAR NOT NULL,        -- '<source>:work:<id>' (unique)
    source     VARCHAR NOT NULL,
    source_id  VARCHAR NOT NULL,
    title      VARCHAR,
    iswcs      VARCHAR[],
    composers  VARCHAR[],
    lyricists  VARCHAR[],
    raw_keys   VARCHAR[]
);

-- Who wrote each work (composer, writer, lyricist ...), with the artist for life spans.
CREATE TABLE IF NOT EXISTS work_writers (
    work_id   VARCHAR NOT NULL,
    role      VARCHAR NOT NULL,         -- MusicBrainz relationship type: composer | writer | lyricist ...
    artist_id VARCHAR NOT NULL,         -- '<source>:artist:<id>'
    name      VARCHAR                   -- as credited (sort name when known)
    -- unique: (work_id, role, artist_id)
);

-- People and groups (composers, lyricists ...) with their life spans, for the composition layer.
CREATE TABLE IF NOT EXISTS artists (
    artist_id  VARCHAR NOT NULL,        -- '<source>:artist:<id>' (unique)
    source     VARCHAR NOT NULL,
    source_id  VARCHAR NOT NULL,
    name       VARCHAR,
    sort_name  VARCHAR,
    type       VARCHAR,                 -- Person | Group | Orchestra ...
    country    VARCHAR,
    begin_date VARCHAR,                 -- born or founded: 'YYYY', 'YYYY-MM' or 'YYYY-MM-DD'
    end_date   VARCHAR,                 -- died or dissolved
    ended      BOOLEAN,
    raw_keys   VARCHAR[]
);

-- Recording -> work edges, as stated by a source.
CREATE TABLE IF NOT EXISTS recording_works (
    record_id VARCHAR NOT NULL,
    work_id   VARCHAR NOT NULL
    -- unique: (record_id, work_id)
);

-- Why two records were judged to be the same recording: the links clusters are made of.
CREATE TABLE IF NOT EXISTS links (
    record_a VARCHAR NOT NULL,          -- record_a < record_b
    record_b VARCHAR NOT NULL,
    method   VARCHAR NOT NULL,          -- identifier | probabilistic | archivist
    rule     VARCHAR NOT NULL,          -- which rule matched: 'shared_isrc' ..., 'model', 'review'
    evidence VARCHAR NOT NULL           -- the shared value, the match weight, or the decision
    -- unique: (record_a, record_b, rule); no index, which would cost more than the linking
);

-- Every pair the probabilistic model scored at or above the review threshold, and what
-- became of it. Rebuilt by `preservation link`.
CREATE TABLE IF NOT EXISTS link_pairs (
    record_a          VARCHAR NOT NULL, -- record_a < record_b
    record_b          VARCHAR NOT NULL,
    match_weight      DOUBLE NOT NULL,  -- log2 of the odds that the two are one recording
    match_probability DOUBLE NOT NULL,
    outcome           VARCHAR NOT NULL, -- linked | review | refused | decided
    reason            VARCHAR           -- why refused (which records would conflict), or the decision
    -- unique: (record_a, record_b)
);

-- Per scored pair and field: the comparison level the pair fell in and its match weight;
-- a pair's weights plus the prior add up to its link_pairs.match_weight.
CREATE TABLE IF NOT EXISTS link_evidence (
    record_a VARCHAR NOT NULL,
    record_b VARCHAR NOT NULL,
    field    VARCHAR NOT NULL,          -- title | people | issue | matrix | date | duration
    level    VARCHAR NOT NULL,          -- e.g. 'same title', 'a year apart', 'missing'
    weight   DOUBLE NOT NULL            -- log2(m / u) of that level; 0 when missing
);

-- The model of the last `preservation link`: its thresholds, prior and parameters.
CREATE TABLE IF NOT EXISTS link_model (
    linked_at      TIMESTAMP NOT NULL,  -- UTC
    records        BIGINT NOT NULL,
    candidate_pairs BIGINT NOT NULL,    -- pairs the blocking rules produced
    trained        VARCHAR NOT NULL,    -- 'em' (m trained on the data) | 'priors'
    prior_weight   DOUBLE NOT NULL,     -- log2 of the odds two random records match
    accept         DOUBLE NOT NULL,     -- match probability at or above which pairs link
    review         DOUBLE NOT NULL,     -- ... at or above which (below accept) they go to review
    settings       JSON NOT NULL        -- the Splink model: comparisons, m and u per level
);

-- Pairs an archivist should decide: scored between the thresholds, or refused because they
-- would chain records that cannot be one recording. Rebuilt by `preservation link`;
-- `preservation link review --export` writes it as a CSV to fill in.
CREATE TABLE IF NOT EXISTS link_review (
    record_a          VARCHAR NOT NULL,
    record_b          VARCHAR NOT NULL,
    match_probability DOUBLE NOT NULL,
    reason            VARCHAR NOT NULL
);

-- Archivists' decisions (`preservation link review --import`). Kept across runs; they
-- override the model: 'same' links the pair, 'different' keeps the two records apart.
CREATE TABLE IF NOT EXISTS link_decisions (
    record_a   VARCHAR NOT NULL,        -- record_a < record_b
    record_b   VARCHAR NOT NULL,
    decision   VARCHAR NOT NULL,        -- same | different
    note       VARCHAR,
    decided_at TIMESTAMP NOT NULL,      -- UTC, when imported
    source     VARCHAR NOT NULL,        -- the CSV file it came from
    PRIMARY KEY (record_a, record_b)
);

-- Platform classification, loaded from preservation/data/*.csv on every run (data, not code).
CREATE TABLE IF NOT EXISTS platforms (
    domain        VARCHAR PRIMARY KEY,  -- matches the host and its subdomains
    platform      VARCHAR NOT NULL,
    access_class  VARCHAR,              -- fixed class for this domain; NULL: take it from the relationship type
    closed_garden BOOLEAN NOT NULL,
    note          VARCHAR
);
CREATE TABLE IF NOT EXISTS relationship_types (
    relation_type VARCHAR PRIMARY KEY,  -- MusicBrainz url-relationship type (or a source's own kind)
    access_class  VARCHAR NOT NULL,
    note          VARCHAR
);

-- One cluster per recording: the records judged to be the same recording.
CREATE TABLE IF NOT EXISTS clusters (
    cluster_id VARCHAR NOT NULL,
    record_id  VARCHAR NOT NULL         -- unique: one cluster per record
);

-- What assess knows about each cluster, gathered once from its records, holdings and works:
-- the inputs of its rights verdicts and of its risk. Rebuilt whole by assess.
CREATE TABLE IF NOT EXISTS cluster_facts (
    cluster_id     VARCHAR NOT NULL,    -- unique; no index
    title          VARCHAR,             -- of the record naming the cluster (a MusicBrainz recording first)
    artists        VARCHAR[],
    year           INTEGER,             -- the earliest year any record gives
    published      INTEGER,             -- the earliest publication year
    published_by   VARCHAR,             -- the record that gives it
    recorded       INTEGER,             -- the earliest recording (fixation) year
    sources        VARCHAR[],           -- the sources its records come from
    writers        INTEGER NOT NULL,    -- authors (composers, writers, lyricists, librettists) of its works
    last_died      INTEGER,             -- the last author's death year, when every author's is known
    live_platforms VARCHAR[] NOT NULL,  -- platforms holding a live copy
    open_platforms VARCHAR[] NOT NULL,  -- open archives holding a live copy
    access_classes VARCHAR[] NOT NULL,  -- access classes of the live copies
    live_copies    INTEGER NOT NULL,    -- live holdings that are copies (not catalogue entries)
    all_closed     BOOLEAN,             -- every live copy is on a closed commercial platform
    gone           VARCHAR[] NOT NULL,  -- holdings no longer live: 'url (why)'
    demand         BIGINT               -- listens of its MusicBrainz recordings (table demand), if supplied
);

-- Rights verdicts per combination of facts found in cluster_facts, jurisdiction and layer:
-- catalogues repeat the same few thousand combinations of years, so each is decided once.
CREATE TABLE IF NOT EXISTS rights_verdicts (
    published    INTEGER,               -- the facts: as in cluster_facts
    recorded     INTEGER,
    work_known   BOOLEAN NOT NULL,      -- cluster_facts.writers > 0
    last_died    INTEGER,
    jurisdiction VARCHAR NOT NULL,
    layer        VARCHAR NOT NULL,
    as_of        DATE NOT NULL,
    status       VARCHAR NOT NULL,
    expires_year INTEGER,
    rule_id      VARCHAR NOT NULL,
    reasons      VARCHAR[] NOT NULL
);

-- Public-domain status per cluster, jurisdiction and layer, as of a date: each cluster with
-- the verdict for its facts (a view, so 10 million clusters x 18 verdicts are never written).
-- Columns: cluster_id, jurisdiction (US | EU | UK | CA | JP | AU, data/rights_rules.toml),
-- layer (recording | composition | both: free to preserve and share), as_of, status
-- (public_domain | in_copyright | undetermined), expires_year (last year of protection, when
-- known), rule_id (the deciding rule), reasons.
CREATE OR REPLACE VIEW rights_status AS
SELECT f.cluster_id, v.jurisdiction, v.layer, v.as_of, v.status, v.expires_year, v.rule_id,
       -- the record the publication year comes from is the cluster's own evidence
       CASE WHEN v.layer = 'recording' AND f.published_by IS NOT NULL
            THEN list_concat(v.reasons[:1], ['earliest publication: ' || f.published_by],
                             v.reasons[2:])
            ELSE v.reasons END AS reasons
FROM cluster_facts AS f
JOIN rights_verdicts AS v
  ON  v.published IS NOT DISTINCT FROM f.published
  AND v.recorded IS NOT DISTINCT FROM f.recorded
  AND v.work_known = (f.writers > 0)
  AND v.last_died IS NOT DISTINCT FROM f.last_died;

-- Demand, when the user supplies it (`preservation assess --demand FILE`): listens per
-- MusicBrainz recording from a lawful popularity source such as ListenBrainz (CC0).
CREATE TABLE IF NOT EXISTS demand (
    recording_mbid VARCHAR NOT NULL,
    listens        BIGINT NOT NULL,
    listeners      BIGINT,
    source         VARCHAR NOT NULL     -- the file it was loaded from
);

-- Risk of loss per cluster, with the reasons that produced it.
CREATE TABLE IF NOT EXISTS risk (
    cluster_id         VARCHAR NOT NULL,  -- unique; rebuilt whole by assess, no index
    as_of              DATE NOT NULL,
    title              VARCHAR,
    artists            VARCHAR[],
    year               INTEGER,
    status             VARCHAR NOT NULL, -- open_public_domain | open_unclear_rights | free_stream_only | closed_garden_only | store_only | catalogue_only
    risk_level         VARCHAR NOT NULL, -- high | medium | low
    score              DOUBLE NOT NULL,  -- 0..100, higher is more at risk
    live_platforms     VARCHAR[] NOT NULL,
    access_classes     VARCHAR[] NOT NULL,
    single_platform    BOOLEAN NOT NULL,
    closed_garden_only BOOLEAN NOT NULL,
    has_open_copy      BOOLEAN NOT NULL,
    vanished           BOOLEAN NOT NULL, -- a holding is known but no longer live (ended, dark, unlisted)
    reasons            VARCHAR[] NOT NULL,
    single_open_copy   BOOLEAN NOT NULL, -- one archive holds every open copy
    pd_without_open_copy BOOLEAN NOT NULL, -- public domain (recording) yet no open archive holds it
    public_domain_in   VARCHAR[] NOT NULL, -- where the recording is public domain (US, EU: RISK_JURISDICTIONS)
    live_copies        INTEGER NOT NULL,
    demand             BIGINT           -- listens, when demand was supplied
);
