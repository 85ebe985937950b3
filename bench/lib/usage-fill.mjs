// Synthetic history for one team, written straight into PostgreSQL with generate_series: usage
// events and artifact rows as a busy team would have after months of builds. Artifact bodies are
// never written (blob_version and content_sha256 are synthetic): the stats never read them.
const DAY_S = 86_400;
/** Events go in by chunks, so a long fill shows progress and no transaction grows huge. */
const CHUNK = 500_000;
/** Distinct hashes the events name; the most popular few take most hits (skewed by a cube). */
export const EVENT_HASHES = 5_000;
/** About this many events per client session (one turbo run). */
const EVENTS_PER_SESSION = 40;

// Hash number i as a 16-digit hex hash; artifact i and the events of hash i name the same one.
const HASH = (i) => `left(md5((${i})::text), 16)`;

/**
 * `count` usage events spread evenly over the last `days` days, in time order (ids grow with
 * created_at, as on a live server): 75% REMOTE, remote hits 70%, local hits 60%, durations
 * from 50 ms to 2 min on hits, two CI systems and interactive runs.
 */
export async function fillEvents(db, teamId, count, days, progress = () => undefined) {
  for (let start = 1; start <= count; start += CHUNK) {
    const end = Math.min(count, start + CHUNK - 1);
    await db.query(
      `INSERT INTO usage_events (team_id, session_id, source, event, hash, duration_ms, client_ci, created_at)
       SELECT $1,
              md5('session' || (r.i / ${EVENTS_PER_SESSION})::text)::uuid,
              CASE WHEN r.src < 0.75 THEN 'REMOTE' ELSE 'LOCAL' END,
              CASE WHEN r.hit < CASE WHEN r.src < 0.75 THEN 0.7 ELSE 0.6 END THEN 'HIT' ELSE 'MISS' END,
              ${HASH(`1 + floor(${EVENT_HASHES} * r.pop ^ 3)::int`)},
              CASE WHEN r.hit < CASE WHEN r.src < 0.75 THEN 0.7 ELSE 0.6 END
                   THEN 50 + floor(r.dur ^ 2 * 120000)::int ELSE 0 END,
              CASE WHEN r.ci < 0.45 THEN 'GITHUB_ACTIONS' WHEN r.ci < 0.7 THEN 'GITLAB_CI' END,
              now() - make_interval(secs => $3::float8 * $4 * (1 - r.i::float8 / $2))
         FROM (SELECT i, random() AS src, random() AS hit, random() AS pop, random() AS dur,
                      -- one CI system (or none) per session: a hash of its number, 0..1
                      abs(hashtext((i / ${EVENTS_PER_SESSION})::text)) / 2147483647.0 AS ci
                 FROM generate_series($5::int, $6::int) AS i) r`,
      [teamId, count, DAY_S, days, start, end],
    );
    progress(end);
  }
}

/** Artifacts go in by chunks too (each INSERT also fires the day totals' trigger once). */
const ARTIFACT_CHUNK = 200_000;

/**
 * `count` artifacts uploaded over the last `days` days (the first EVENT_HASHES are the hashes
 * the events name), 1 KiB to ~50 MiB, recently accessed so that no sweep expires them.
 */
export async function fillArtifacts(db, teamId, count, days, progress = () => undefined) {
  for (let start = 1; start <= count; start += ARTIFACT_CHUNK) {
    const end = Math.min(count, start + ARTIFACT_CHUNK - 1);
    await db.query(
      `INSERT INTO artifacts (team_id, hash, size, duration_ms, tag, sha, dirty_hash, client_ci,
                              client_interactive, blob_version, content_sha256, created_at,
                              last_accessed_at, hit_count)
       SELECT $1, ${HASH('i')}, 1024 + floor(random() ^ 4 * 50 * 1048576)::bigint,
              floor(random() * 60000)::int, NULL, left(md5('sha' || i), 40), NULL,
              CASE WHEN i % 10 < 5 THEN 'GITHUB_ACTIONS' WHEN i % 10 < 8 THEN 'GITLAB_CI' END,
              i % 10 >= 8, left(md5('v' || i), 24), md5('c' || i) || md5('d' || i),
              now() - make_interval(secs => $2::float8 * $3 * random()), now(), 0
         FROM generate_series($4::int, $5::int) AS i`,
      [teamId, DAY_S, days, start, end],
    );
    progress(end);
  }
}

/**
 * Deletes the team's events older than `keepDays` in batches of `batch` rows, one statement
 * (its own transaction) each, as a retention job would (for a build without event retention).
 * Returns the rows deleted, the number of batches and the longest batch in ms.
 */
export async function deleteOldEvents(db, teamId, keepDays, batch) {
  let deleted = 0;
  let batches = 0;
  let longestMs = 0;
  for (;;) {
    const started = performance.now();
    const { rowCount } = await db.query(
      `DELETE FROM usage_events WHERE ctid IN (
         SELECT ctid FROM usage_events
          WHERE team_id = $1 AND created_at < now() - make_interval(days => $2)
          LIMIT $3)`,
      [teamId, keepDays, batch],
    );
    longestMs = Math.max(longestMs, performance.now() - started);
    if (rowCount === 0) return { deleted, batches, longestMs };
    deleted += rowCount;
    batches += 1;
  }
}
