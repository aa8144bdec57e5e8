-- The person-month panel (see docs/data-contract.md, "The person-month panel").
-- One definition for every engine: this query is parsed (sqlglot, DuckDB syntax restricted
-- to what DuckDB, PostgreSQL and Spark SQL all have) and rendered in the engine's dialect.
-- Months are integers (year * 12 + month - 1). Two values are set by monitoring.panel when
-- it builds the tree, never by text: the placeholder :last_m (the last month of the panel)
-- and the table "calendar" (one row per month index m from the first month in the
-- registers to :last_m, a VALUES list).
--
-- Everything a month's row takes from its person, spell, centre and decision is joined once
-- per run of months (an interval: one spell under one latest decision), and only then is
-- each interval expanded to its months by the calendar join; the month's own columns come
-- from the calendar's rows (one computation per calendar month).
SELECT
    s.person_id,
    cal.month,
    cal.period,
    s.centre_id,
    s.centre_type,
    s.region,
    s.municipality,
    s.nationality,
    s.returnability,
    COALESCE(s.agreement_m <= cal.m, FALSE) AS return_agreement,
    s.sex,
    s.household,
    CAST(cal.y - s.birth_year AS INT) AS age,
    CASE
        WHEN cal.y - s.birth_year < 18 THEN '0-17'
        WHEN cal.y - s.birth_year < 25 THEN '18-24'
        WHEN cal.y - s.birth_year < 35 THEN '25-34'
        WHEN cal.y - s.birth_year < 45 THEN '35-44'
        WHEN cal.y - s.birth_year < 55 THEN '45-54'
        ELSE '55+'
    END AS age_band,
    s.dublin,
    s.identity_documented,
    s.prior_absconding,
    s.health_issue,
    s.special_circumstances,
    CAST(cal.m - s.decision_m AS INT) AS months_since_decision,
    CAST(cal.m - s.first_m AS INT) AS months_in_reception,
    pa.measure,
    COALESCE(pa.participating, FALSE) AS participating,
    COALESCE(pa.enrolled = 1, FALSE) AS enrolled,
    CASE WHEN s.exit_m = cal.m THEN s.exit_type END AS exit_type,
    COALESCE(pa.applied, FALSE) AS applied
FROM (
    -- the intervals: the months lo..hi of one spell under one decision, with the columns of
    -- the person and the centre. A month is in the panel when the person is obliged to leave
    -- (a final decision in or before the month; the latest such decision is the interval's)
    -- and has not exited before the month; the months of a spell are those it holds:
    SELECT n.pid, p.person_id, sp.centre_id, c.centre_type, c.region, c.municipality, p.nationality,
           p.returnability, p.agreement_m, p.sex, p.household, p.birth_year, p.dublin, p.identity_documented,
           p.prior_absconding, p.health_issue, p.special_circumstances, p.first_m, d.decision_m, sp.exit_m,
           sp.exit_type,
           GREATEST(sp.from_m, COALESCE(sp.covered_m, sp.from_m - 1) + 1, d.decision_m) AS lo,
           LEAST(sp.to_m, :last_m, COALESCE(d.next_m - 1, :last_m), COALESCE(sp.exit_m, :last_m)) AS hi
    FROM (
        -- the centre on the month's first day, or of the first spell entered during the month:
        -- a spell holds the months it touches that no spell started before it (by date_from,
        -- then centre_id) already holds; those spells all start in or before its first month,
        -- so they hold exactly its months up to the latest month they reach (covered_m). The
        -- months held by a person's spells are therefore disjoint.
        SELECT v.person_id, v.centre_id, v.from_m, v.to_m, v.exit_m, v.exit_type,
               MAX(v.to_m) OVER (PARTITION BY v.person_id ORDER BY v.date_from, v.centre_id
                                 ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS covered_m
        FROM (
            -- every calendar month a residence spell touches, up to the observation end; a
            -- spell ended by the person's exit (date_to = exit_date) reaches the exit's month
            SELECT r.person_id, r.centre_id, r.date_from, e.exit_type,
                   CAST(EXTRACT(YEAR FROM r.date_from) AS INT) * 12 + CAST(EXTRACT(MONTH FROM r.date_from) AS INT) - 1 AS from_m,
                   CASE
                       WHEN r.date_to IS NULL THEN :last_m
                       WHEN e.exit_date = r.date_to
                           THEN CAST(EXTRACT(YEAR FROM r.date_to) AS INT) * 12 + CAST(EXTRACT(MONTH FROM r.date_to) AS INT) - 1
                       ELSE CAST(EXTRACT(YEAR FROM r.date_to) AS INT) * 12 + CAST(EXTRACT(MONTH FROM r.date_to) AS INT) - 1
                            - CASE WHEN CAST(EXTRACT(DAY FROM r.date_to) AS INT) = 1 THEN 1 ELSE 0 END
                   END AS to_m,
                   CAST(EXTRACT(YEAR FROM e.exit_date) AS INT) * 12 + CAST(EXTRACT(MONTH FROM e.exit_date) AS INT) - 1 AS exit_m
            FROM residence AS r
            LEFT JOIN exits AS e ON e.person_id = r.person_id
        ) AS v
    ) AS sp
    JOIN person_number AS n ON n.person_id = sp.person_id
    JOIN (
        -- the decisions as runs of months: decision_m up to the month before the person's next
        -- decision month (next_m; none: to the end). Two decisions in one month: the first in
        -- the order has next_m = its own month, an empty run, and the other holds the months.
        SELECT dm.pid, dm.decision_m,
               MIN(dm.decision_m) OVER (PARTITION BY dm.pid ORDER BY dm.decision_m
                                        ROWS BETWEEN 1 FOLLOWING AND 1 FOLLOWING) AS next_m
        FROM (
            SELECT n.pid, CAST(EXTRACT(YEAR FROM d.decision_date) AS INT) * 12 + CAST(EXTRACT(MONTH FROM d.decision_date) AS INT) - 1 AS decision_m
            FROM decisions AS d
            JOIN person_number AS n ON n.person_id = d.person_id
        ) AS dm
        WHERE dm.decision_m IS NOT NULL
    ) AS d ON d.pid = n.pid
    JOIN (
        -- person-level columns
        SELECT pe.person_id, pe.nationality, pe.sex, pe.household, pe.birth_year, pe.dublin, pe.identity_documented,
               pe.prior_absconding, pe.health_issue, pe.special_circumstances, i.pid, na.returnability,
               CAST(EXTRACT(YEAR FROM na.return_agreement_from) AS INT) * 12 + CAST(EXTRACT(MONTH FROM na.return_agreement_from) AS INT) - 1 AS agreement_m,
               CAST(EXTRACT(YEAR FROM f.first_from) AS INT) * 12 + CAST(EXTRACT(MONTH FROM f.first_from) AS INT) - 1 AS first_m
        FROM persons AS pe
        JOIN person_number AS i ON i.person_id = pe.person_id
        LEFT JOIN nationalities AS na ON na.nationality = pe.nationality
        JOIN (SELECT person_id, MIN(date_from) AS first_from FROM residence GROUP BY person_id) AS f
          ON f.person_id = pe.person_id
    ) AS p ON p.pid = n.pid
    LEFT JOIN centres AS c ON c.centre_id = sp.centre_id
    WHERE sp.from_m <= :last_m
) AS s
JOIN (
    -- the calendar's months with their own columns
    SELECT m, m // 12 AS y,
           MAKE_DATE(CAST(m // 12 AS INT), CAST(m % 12 + 1 AS INT), 1) AS month,
           CAST(m // 12 AS VARCHAR) || '-' || LPAD(CAST(m % 12 + 1 AS VARCHAR), 2, '0') AS period
    FROM calendar
) AS cal ON cal.m >= s.lo AND cal.m <= s.hi
LEFT JOIN (
    -- per person-month: the measure of the month (the earliest started, then the lowest
    -- code), whether one started in the month (end_date inclusive, ongoing to the
    -- observation end), and whether the person applied for assisted return in the month
    SELECT COALESCE(q.pid, ap.pid) AS pid, COALESCE(q.m, ap.m) AS m, q.measure, q.enrolled,
           q.pid IS NOT NULL AS participating, ap.pid IS NOT NULL AS applied
    FROM (
        SELECT q.pid, q.m, q.measure, q.enrolled
        FROM (
            SELECT n.pid, cal.m, pt.measure,
                   ROW_NUMBER() OVER (PARTITION BY n.pid, cal.m ORDER BY pt.start_date, pt.measure) AS k,
                   MAX(CASE WHEN pt.start_m = cal.m THEN 1 ELSE 0 END) OVER (PARTITION BY n.pid, cal.m) AS enrolled
            FROM (
                SELECT person_id, measure, start_date,
                       CAST(EXTRACT(YEAR FROM start_date) AS INT) * 12 + CAST(EXTRACT(MONTH FROM start_date) AS INT) - 1 AS start_m,
                       CASE WHEN end_date IS NULL THEN :last_m
                            ELSE CAST(EXTRACT(YEAR FROM end_date) AS INT) * 12 + CAST(EXTRACT(MONTH FROM end_date) AS INT) - 1
                       END AS end_m
                FROM participation
            ) AS pt
            JOIN person_number AS n ON n.person_id = pt.person_id
            JOIN calendar AS cal ON cal.m >= pt.start_m AND cal.m <= LEAST(pt.end_m, :last_m)
            WHERE pt.start_m <= :last_m
        ) AS q
        WHERE q.k = 1
    ) AS q
    FULL OUTER JOIN (
        SELECT DISTINCT n.pid,
               CAST(EXTRACT(YEAR FROM ap.application_date) AS INT) * 12 + CAST(EXTRACT(MONTH FROM ap.application_date) AS INT) - 1 AS m
        FROM applications AS ap
        JOIN person_number AS n ON n.person_id = ap.person_id
    ) AS ap ON ap.pid = q.pid AND ap.m = q.m
) AS pa ON pa.pid = s.pid AND pa.m = cal.m
ORDER BY s.pid, cal.m
