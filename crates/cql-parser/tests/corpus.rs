//! A corpus of valid CQL (mostly taken from the Cassandra documentation and
//! test suites): every statement must parse, and printing the AST must give
//! CQL that parses back to an equal AST (and prints identically).

use meridian_cql_parser::{parse_statement, parse_statements, Statement};

const VALID: &[&str] = &[
    // ---- keyspaces / USE ----
    "CREATE KEYSPACE excelsior WITH replication = {'class': 'SimpleStrategy', 'replication_factor' : 3}",
    "CREATE KEYSPACE excalibur WITH replication = {'class': 'NetworkTopologyStrategy', 'DC1' : 1, 'DC2' : 3} AND durable_writes = false",
    "CREATE KEYSPACE IF NOT EXISTS ks WITH REPLICATION = { 'class' : 'SimpleStrategy', 'replication_factor' : 1 };",
    "CREATE SCHEMA ks2 WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}",
    "CREATE KEYSPACE \"MyKs\" WITH replication = {'class': 'SimpleStrategy', 'replication_factor': '1'}",
    "ALTER KEYSPACE excelsior WITH replication = {'class': 'SimpleStrategy', 'replication_factor' : 4}",
    "ALTER KEYSPACE IF EXISTS ks WITH durable_writes = true",
    "DROP KEYSPACE excelsior",
    "DROP KEYSPACE IF EXISTS excelsior;",
    "USE excelsior",
    "USE \"MyKeyspace\";",
    // ---- tables ----
    "CREATE TABLE monkey_species (species text PRIMARY KEY, common_name text, population varint, average_size int) WITH comment='Important biological records'",
    "CREATE TABLE timeline (userid uuid, posted_month int, posted_time uuid, body text, posted_by text, PRIMARY KEY (userid, posted_month, posted_time)) WITH compaction = { 'class' : 'LeveledCompactionStrategy' }",
    "CREATE TABLE loads (machine inet, cpu int, mtime timeuuid, load float, PRIMARY KEY ((machine, cpu), mtime)) WITH CLUSTERING ORDER BY (mtime DESC)",
    "CREATE TABLE t (pk int, t int, v text, s text static, PRIMARY KEY (pk, t))",
    "CREATE TABLE IF NOT EXISTS ks.t (k int, c1 int, c2 text, v map<text, frozen<list<int>>>, PRIMARY KEY (k, c1, c2)) WITH CLUSTERING ORDER BY (c1 ASC, c2 DESC) AND gc_grace_seconds = 864000 AND bloom_filter_fp_chance = 0.01",
    "CREATE TABLE t (k int PRIMARY KEY, v int) WITH COMPACT STORAGE",
    "CREATE TABLE t (k int, v int, PRIMARY KEY (k)) WITH caching = {'keys': 'ALL', 'rows_per_partition': 'NONE'} AND compression = {'class': 'LZ4Compressor', 'chunk_length_in_kb': 64} AND speculative_retry = '99PERCENTILE' AND crc_check_chance = 1.0 AND default_time_to_live = 0 AND read_repair = 'BLOCKING' AND memtable_flush_period_in_ms = 0",
    "CREATE TABLE t (a int, b int, c int, d int, PRIMARY KEY ((a, b), c, d),)",
    "CREATE TABLE t (PRIMARY KEY (a), a int)",
    "CREATE TABLE t (k int PRIMARY KEY, l list<int>, s set<text>, m map<int, text>, tu tuple<int, text, float>, fr frozen<map<text, int>>, v vector<float, 3>, u ks.address, u2 frozen<address>, \"Quoted Col\" blob, d duration, dt date, tm time, ts timestamp, b boolean, dec decimal, dbl double, i inet, si smallint, ti tinyint, tid timeuuid, vc varchar, vi varint, a ascii, bi bigint, c counter)",
    "CREATE TABLE t (k int PRIMARY KEY, \"key\" text, type text, ttl int, count int, writetime int, json text, values int, filtering int, key2 int, static_col int STATIC)",
    "CREATE TABLE t (k int PRIMARY KEY, e text MASKED WITH DEFAULT, p text MASKED WITH mask_inner(1, null), q int MASKED WITH system.mask_null())",
    "CREATE TABLE t (k int PRIMARY KEY, c 'org.apache.cassandra.db.marshal.BytesType')",
    "CREATE TABLE users (user_id text PRIMARY KEY, first_name text, last_name text, emails set<text>) WITH default_time_to_live = 3600 AND caching = ALL",
    "CREATE COLUMNFAMILY cf (k int PRIMARY KEY)",
    "ALTER TABLE addamsFamily ADD gravesite varchar",
    "ALTER TABLE t ADD (a int, b text static, c list<int>)",
    "ALTER TABLE t ADD IF NOT EXISTS a int",
    "ALTER TABLE IF EXISTS ks.t DROP a",
    "ALTER TABLE t DROP (a, b) USING TIMESTAMP 12345",
    "ALTER TABLE t DROP IF EXISTS b",
    "ALTER TABLE t RENAME a TO b AND c TO d",
    "ALTER TABLE t RENAME IF EXISTS a TO b",
    "ALTER TABLE addamsFamily WITH comment = 'A most excellent and useful table' AND read_repair = 'NONE'",
    "ALTER TABLE t ALTER v TYPE blob",
    "ALTER TABLE t ALTER v MASKED WITH DEFAULT",
    "ALTER TABLE t ALTER IF EXISTS v DROP MASKED",
    "ALTER TABLE t DROP COMPACT STORAGE",
    "ALTER TABLE t DROP compact",
    "DROP TABLE worldSeriesAttendees",
    "DROP TABLE IF EXISTS ks.t",
    "TRUNCATE superImportantData",
    "TRUNCATE TABLE ks.t",
    "TRUNCATE COLUMNFAMILY t",
    // ---- types ----
    "CREATE TYPE address (street_name text, street_number int, city text, state text, zip int)",
    "CREATE TYPE IF NOT EXISTS ks.work_and_home_addresses (home_address address, work_address address,)",
    "CREATE TYPE \"Type\" (\"Field\" int, key text, type int)",
    "ALTER TYPE address ADD country text",
    "ALTER TYPE address ADD IF NOT EXISTS country text",
    "ALTER TYPE IF EXISTS address RENAME zip TO zipcode AND state TO region",
    "ALTER TYPE address ALTER zip TYPE varint",
    "DROP TYPE address",
    "DROP TYPE IF EXISTS ks.address",
    // ---- indexes / views ----
    "CREATE INDEX userIndex ON NerdMovies (user)",
    "CREATE INDEX ON Mutants (abilityId)",
    "CREATE INDEX ON users (keys(favs))",
    "CREATE INDEX IF NOT EXISTS idx ON ks.t (VALUES(m))",
    "CREATE INDEX ON t (ENTRIES(m))",
    "CREATE INDEX ON t (FULL(fl))",
    "CREATE INDEX ON t (values)",
    "CREATE CUSTOM INDEX ON users (email) USING 'path.to.the.IndexClass'",
    "CREATE CUSTOM INDEX ON users (email) USING 'path.to.the.IndexClass' WITH OPTIONS = {'storage': '/mnt/ssd/indexes/'}",
    "CREATE CUSTOM INDEX ann_idx ON t (v) USING 'StorageAttachedIndex' WITH OPTIONS = {'similarity_function': 'dot_product'}",
    "DROP INDEX userIndex",
    "DROP INDEX IF EXISTS ks.idx",
    "CREATE MATERIALIZED VIEW monkeySpecies_by_population AS SELECT * FROM monkeySpecies WHERE population IS NOT NULL AND species IS NOT NULL PRIMARY KEY (population, species) WITH comment='Allow query by population instead of species'",
    "CREATE MATERIALIZED VIEW IF NOT EXISTS ks.v AS SELECT a, b, c FROM ks.t WHERE a IS NOT NULL AND b IS NOT NULL AND c IS NOT NULL PRIMARY KEY ((a, b), c) WITH CLUSTERING ORDER BY (c DESC) AND caching = {'keys': 'ALL'}",
    "ALTER MATERIALIZED VIEW v WITH comment = 'x'",
    "DROP MATERIALIZED VIEW IF EXISTS ks.v",
    // ---- INSERT ----
    "INSERT INTO NerdMovies (movie, director, main_actor, year) VALUES ('Serenity', 'Joss Whedon', 'Nathan Fillion', 2005) USING TTL 86400",
    "INSERT INTO NerdMovies JSON '{\"movie\": \"Serenity\", \"director\": \"Joss Whedon\", \"year\": 2005}'",
    "INSERT INTO t JSON ? DEFAULT UNSET IF NOT EXISTS USING TTL ?",
    "INSERT INTO t JSON :doc DEFAULT NULL",
    "INSERT INTO ks.t (k, v) VALUES (?, ?) IF NOT EXISTS USING TTL 10 AND TIMESTAMP 123456789",
    "INSERT INTO t (k, v) VALUES (:k, :\"V\") USING TIMESTAMP :ts",
    "INSERT INTO t (k, s, l, m, tu, u) VALUES (1, {'a', 'b'}, [1, 2, 3], {1: 'one', 2: 'two'}, (1, 'x', 2.5), {street: 'Main', number: 12})",
    "INSERT INTO t (k, e1, e2, e3) VALUES (0, {}, [], {'k': []})",
    "INSERT INTO t (k, v) VALUES ($$a'b$$, 'it''s')",
    "INSERT INTO t (a, b, c, d, e, f, g, h) VALUES (-1, 1.5, -2.5e-3, NaN, -NaN, Infinity, -Infinity, 0xcafebabe)",
    "INSERT INTO t (a, b, c, d) VALUES (true, FALSE, 123e4567-e89b-12d3-a456-426614174000, null)",
    "INSERT INTO t (a, b, c, d) VALUES (1h30m, P1DT2H, -5ms, P0001-02-03T04:05:06)",
    "INSERT INTO t (k, v) VALUES (1, 2 + 3 * 4 - 5 / 6 % 7)",
    "INSERT INTO t (k, v) VALUES (1, - 2)",
    "INSERT INTO t (k, v) VALUES (now(), toTimestamp(now()))",
    "INSERT INTO t (k, v) VALUES (uuid(), ks.myfunc(1, 'a', [1]))",
    "INSERT INTO t (k, v) VALUES ((int) ?, (text) :name)",
    "INSERT INTO t (k, v) VALUES ((frozen<list<int>>) [1, 2], (tuple<int, text>) (1, 'a'))",
    "INSERT INTO t (k, v) VALUES (CAST(1 AS text), blobAsText(0x))",
    "INSERT INTO t (k, v) VALUES (1, [[1, 2], [3]])",
    "INSERT INTO t (k, v) VALUES (1, {'a': {'b': (1, 2)}})",
    "INSERT INTO t (k, v) VALUES (1, [0.1, 0.2, 0.3])",
    "INSERT INTO t (k, \"\") VALUES (1, 2)",
    "INSERT INTO t (key, type, ttl) VALUES (1, 2, 3)",
    // ---- UPDATE ----
    "UPDATE NerdMovies USING TTL 400 SET director = 'Joss Whedon', main_actor = 'Nathan Fillion', year = 2005 WHERE movie = 'Serenity'",
    "UPDATE UserActions SET total = total + 2 WHERE user = B70DE1D0-9908-4AE3-BE34-5573E5B09F14 AND action = 'click'",
    "UPDATE t SET c = c - 1 WHERE k = 0",
    "UPDATE t SET c = c -1 WHERE k = 0",
    "UPDATE t SET c += 1, d -= 2 WHERE k = 0",
    "UPDATE plays SET players = 5, scores = scores + [ 14, 21 ] WHERE id = '123-afde'",
    "UPDATE plays SET scores = [ 3 ] + scores WHERE id = '123-afde'",
    "UPDATE plays SET scores[1] = 7 WHERE id = '123-afde'",
    "UPDATE plays SET scores = scores - [ 12, 21 ] WHERE id = '123-afde'",
    "UPDATE users SET favs['author'] = 'Ed Poe' WHERE id = 'jsmith'",
    "UPDATE users SET favs = favs + { 'movie' : 'Cassablanca', 'band' : 'ZZ Top' } WHERE id = 'jsmith'",
    "UPDATE images SET tags = tags + { 'gmail', 'gmail' } WHERE name = 'cat.jpg'",
    "UPDATE images SET tags = tags - { 'cat' } WHERE name = 'cat.jpg'",
    "UPDATE t SET addr.street = 'Main', addr.number = 1 WHERE k = 0",
    "UPDATE t SET v = ? WHERE k = ? IF EXISTS",
    "UPDATE t SET v = 1 WHERE k = 0 IF v = 0 AND w != 2 AND x > 3 AND y >= 4 AND z < 5 AND q <= 6",
    "UPDATE t SET v = 1 WHERE k = 0 IF m['a'] = 1 AND l[0] IN (1, 2) AND s IN ? AND u.f = 'x' AND u.g IN (1)",
    "UPDATE t SET v = 1 WHERE k = 0 IF s CONTAINS 1 AND m CONTAINS KEY 'a'",
    "UPDATE t SET v = 1 WHERE k = 0 IF exists = 1",
    "UPDATE t USING TIMESTAMP 1 AND TTL 2 SET v = null WHERE k IN (1, 2) AND c > 3",
    "UPDATE t SET l = l + ?, m[?] = ? WHERE k = ?",
    "UPDATE t SET count = count + 1 WHERE key = 'a'",
    "UPDATE t SET v = [1] + [2] + v WHERE k = 0",
    "UPDATE t SET v = now() WHERE k = 0",
    "UPDATE t SET m = m + {now(): 1} WHERE k = 0",
    "UPDATE t SET v = v + f(1) WHERE k = 0",
    // ---- DELETE ----
    "DELETE FROM NerdMovies USING TIMESTAMP 1240003134 WHERE movie = 'Serenity'",
    "DELETE phone FROM Users WHERE userid IN (C73DE1D3-AF08-40F3-A5A6-8B8A7C0A4A5E, B70DE1D0-9908-4AE3-BE34-5573E5B09F14)",
    "DELETE scores[1], favs['author'], addr.street, v FROM t WHERE k = 0",
    "DELETE FROM t WHERE k = 0 AND c > 1 AND c <= 5",
    "DELETE FROM t WHERE k = 0 AND (c1, c2) > (1, 2) AND (c1, c2) <= (3, 4)",
    "DELETE FROM t WHERE k = ? IF EXISTS",
    "DELETE v FROM t WHERE k = 0 IF v = 1 AND w IN (1, 2)",
    "DELETE FROM t USING TIMESTAMP ? WHERE k = ?",
    // ---- BATCH ----
    "BEGIN BATCH INSERT INTO users (userid, password, name) VALUES ('user2', 'ch@ngem3b', 'second user'); UPDATE users SET password = 'ps22dhds' WHERE userid = 'user3'; INSERT INTO users (userid, password) VALUES ('user4', 'ch@ngem3c'); DELETE name FROM users WHERE userid = 'user1'; APPLY BATCH;",
    "BEGIN UNLOGGED BATCH USING TIMESTAMP 1 INSERT INTO t (k) VALUES (1) INSERT INTO t (k) VALUES (2) APPLY BATCH",
    "BEGIN COUNTER BATCH UPDATE c SET v = v + 1 WHERE k = 1; UPDATE c SET v = v - 1 WHERE k = 2; APPLY BATCH",
    "BEGIN BATCH APPLY BATCH",
    "BEGIN BATCH INSERT INTO t (k, v) VALUES (?, ?); UPDATE t SET v = ? WHERE k = ?; DELETE FROM t WHERE k = ?; APPLY BATCH",
    // ---- SELECT ----
    "SELECT name, occupation FROM users WHERE userid IN (199, 200, 207)",
    "SELECT JSON name, occupation FROM users WHERE userid = 199",
    "SELECT name AS user_name, occupation AS user_occupation FROM users",
    "SELECT time, value FROM events WHERE event_type = 'myEvent' AND time > '2011-02-03' AND time <= '2012-01-01'",
    "SELECT COUNT (*) AS user_count FROM users",
    "SELECT count(*) FROM t",
    "SELECT count(1) FROM t",
    "SELECT * FROM posts WHERE userid = 'john doe' AND (blog_title, posted_at) > ('John''s Blog', '2012-01-01')",
    "SELECT * FROM posts WHERE userid = 'john doe' AND (blog_title, posted_at) IN (('John''s Blog', '2012-01-01'), ('Extreme Chess', '2014-06-01'))",
    "SELECT * FROM t WHERE (a, b) IN (?, ?)",
    "SELECT * FROM t WHERE (a, b) IN ?",
    "SELECT * FROM t WHERE (a, b) IN ()",
    "SELECT * FROM t WHERE (a, b) >= ? AND (a) < (1)",
    "SELECT * FROM posts WHERE token(userid) > token('tom') AND token(userid) < token('bob')",
    "SELECT * FROM t WHERE token(a, b) > ? AND token(a, b) <= :tk",
    "SELECT * FROM t WHERE k IN ? AND c IN :cs",
    "SELECT * FROM t WHERE k IN ()",
    "SELECT * FROM t WHERE tags CONTAINS 'x' AND m CONTAINS KEY 'k' ALLOW FILTERING",
    "SELECT * FROM t WHERE m['key'] = 'value' ALLOW FILTERING",
    "SELECT * FROM t WHERE name LIKE 'abc%'",
    "SELECT * FROM t WHERE v IS NOT NULL",
    "SELECT * FROM t WHERE a != 1",
    "SELECT * FROM t WHERE (a = 1) AND ((b > 2))",
    "SELECT * FROM t WHERE expr(my_index, 'custom expression')",
    "SELECT * FROM t WHERE k = 1 ORDER BY c DESC, d ASC, e",
    "SELECT * FROM t ORDER BY v ANN OF [3.4, 7.8] LIMIT 10",
    "SELECT * FROM t WHERE k = 1 GROUP BY k, c PER PARTITION LIMIT 2 LIMIT 10 ALLOW FILTERING",
    "SELECT * FROM t GROUP BY k, floor(ts, 1h)",
    "SELECT * FROM t LIMIT ?",
    "SELECT * FROM t PER PARTITION LIMIT :ppl LIMIT :l",
    "SELECT DISTINCT k FROM t",
    "SELECT JSON DISTINCT k, v FROM t",
    "SELECT JSON * FROM t",
    "SELECT json FROM t",
    "SELECT json, distinct FROM t",
    "SELECT distinct FROM t",
    "SELECT JSON json FROM t",
    "SELECT \"json\" AS x FROM t",
    "SELECT writetime(v), ttl(v), maxwritetime(v) FROM t",
    "SELECT writetime(m['a']), ttl(u.f) FROM t",
    "SELECT writetime, ttl, count, cast, key, type FROM t",
    "SELECT token(k), token(k, c) FROM t",
    "SELECT CAST(v AS text), cast(count(*) AS int) FROM t",
    "SELECT toJson(v), fromJson('1'), blobAsBigint(timestampAsBlob(dateOf(now()))) FROM t",
    "SELECT min(v), max(v), sum(v), avg(v) FROM t",
    "SELECT ks.func(a, b) FROM t",
    "SELECT u.street, u.city.name, m['k'], l[0], m['a'..'c'], s[..3], s[1..] FROM t",
    "SELECT m[1..3], m[1...3] FROM t",
    "SELECT a + b * c - d / e % f, -a, - - a, (a + b) * c FROM t",
    "SELECT 1, 'text', null, ?, :name, 1.5, true FROM t",
    "SELECT [1, 2], {1, 2}, {1: 'a'}, {a: 1, b: 'x'}, (1, 2), {} FROM t",
    "SELECT (int) 1, (text) ?, (list<int>) [1, 2] FROM t",
    "SELECT (a) FROM t",
    "SELECT \"Name\", \"quoted\"\"name\" FROM \"Ks\".\"Table\"",
    "SELECT * FROM ks.t WHERE k = 0",
    "SELECT * FROM t WHERE k = 0;;;",
    "select * from T where K = 0 and C in (1,2) order by C desc limit 5 allow filtering",
    "SELECT * FROM t WHERE k = now() AND t = toTimestamp(?) AND u = currentTimeUUID()",
    "SELECT * FROM t WHERE k = 1 + 2 AND c = [1, 2] + [3]",
    "SELECT * FROM t WHERE \"\" = 1",
    "SELECT * FROM t -- a comment\n WHERE /* block */ k = 1 // another\n",
    "SELECT * FROM t WHERE k = 0x AND h = 0XFF",
    "SELECT * FROM t WHERE d = 1y2mo3w4d5h6m7s8ms9us10ns AND e = 3µs AND f = PT5M AND g = P2W AND h = -P1Y2M",
];

fn roundtrip(stmt: &Statement, source: &str) {
    let printed = stmt.to_string();
    let reparsed = parse_statement(&printed).unwrap_or_else(|e| {
        panic!("reparse failed for {source:?}\nprinted: {printed}\nerror: {e}")
    });
    assert_eq!(
        &reparsed, stmt,
        "round trip changed the AST\nsource:  {source}\nprinted: {printed}"
    );
    assert_eq!(
        reparsed.to_string(),
        printed,
        "printing is not stable for {source:?}"
    );
}

#[test]
fn corpus_parses_and_round_trips() {
    for src in VALID {
        let stmt = parse_statement(src).unwrap_or_else(|e| panic!("failed to parse {src:?}: {e}"));
        roundtrip(&stmt, src);
    }
}

#[test]
fn corpus_parses_as_one_multi_statement_string() {
    let joined = VALID
        .iter()
        .map(|s| s.trim_end_matches(';'))
        .collect::<Vec<_>>()
        .join(";\n");
    let stmts = parse_statements(&joined).unwrap();
    assert_eq!(stmts.len(), VALID.len());
    for (stmt, src) in stmts.iter().zip(VALID) {
        assert_eq!(stmt, &parse_statement(src).unwrap(), "{src}");
    }
}

/// Swaps the case of every purely alphabetic word (keywords and unquoted
/// identifiers, both case-insensitive); words touching digits (UUIDs, hex,
/// durations) are left alone.
fn swap_word_case(src: &str) -> String {
    let chars: Vec<char> = src.chars().collect();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_ascii_alphabetic() && (i == 0 || !chars[i - 1].is_alphanumeric()) {
            let mut j = i;
            while j < chars.len() && (chars[j].is_ascii_alphabetic() || chars[j] == '_') {
                j += 1;
            }
            let touches_digit = j < chars.len() && chars[j].is_ascii_alphanumeric();
            for c in &chars[i..j] {
                let swapped = if touches_digit {
                    *c
                } else if c.is_ascii_uppercase() {
                    c.to_ascii_lowercase()
                } else {
                    c.to_ascii_uppercase()
                };
                out.push(swapped);
            }
            i = j;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

#[test]
fn keywords_and_unquoted_identifiers_are_case_insensitive() {
    let mut checked = 0;
    for src in VALID {
        // Quoted content is case-sensitive, and keyword property values
        // keep their spelling (as in Cassandra).
        if src.contains('\'') || src.contains('"') || src.contains('$') || src.contains("= ALL") {
            continue;
        }
        let original = parse_statement(src).unwrap();
        let swapped = swap_word_case(src);
        let other = parse_statement(&swapped).unwrap_or_else(|e| panic!("{swapped}: {e}"));
        assert_eq!(original, other, "{src}");
        checked += 1;
    }
    assert!(checked > 100, "only {checked} statements checked");
}
