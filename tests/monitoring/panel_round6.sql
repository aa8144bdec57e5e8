-- The person-month panel (see docs/data-contract.md, "The person-month panel").
-- One definition for every engine: this query is parsed (sqlglot, DuckDB syntax restricted
-- to what DuckDB, PostgreSQL and Spark SQL all have) and rendered in the engine's dialect.
-- Months are integers (year * 12 + month - 1). Two values are set by monitoring.panel when
-- it builds the tree, never by text: the placeholder :last_m (the last month of the panel)
-- and the table "calendar" (one row per month index m from the first month in the
-- registers to :last_m, a VALUES list).
SELECT
    p.person_id,
    MAKE_DATE(CAST(a.m // 12 AS INT), CAST(a.m % 12 + 1 AS INT), 1) AS month,
    CAST(a.m // 12 AS VARCHAR) || '-' || LPAD(CAST(a.m % 12 + 1 AS VARCHAR), 2, '0') AS period,
    a.centre_id,
    c.centre_type,
    c.region,
    c.municipality,
    p.nationality,
    p.returnability,
    COALESCE(p.agreement_m <= a.m, FALSE) AS return_agreement,
    p.sex,
    p.household,
    CAST(a.m // 12 - p.birth_year AS INT) AS age,
    CASE
        WHEN a.m // 12 - p.birth_year < 18 THEN '0-17'
        WHEN a.m // 12 - p.birth_year < 25 THEN '18-24'
        WHEN a.m // 12 - p.birth_year < 35 THEN '25-34'
        WHEN a.m // 12 - p.birth_year < 45 THEN '35-44'
        WHEN a.m // 12 - p.birth_year < 55 THEN '45-54'
        ELSE '55+'
    END AS age_band,
    p.dublin,
    p.identity_documented,
    p.prior_absconding,
    p.health_issue,
    p.special_circumstances,
    CAST(a.m - a.decision_m AS INT) AS months_since_decision,
    CAST(a.m - p.first_m AS INT) AS months_in_reception,
    pa.measure,
    pa.pid IS NOT NULL AS participating,
    COALESCE(pa.enrolled = 1, FALSE) AS enrolled,
    CASE WHEN a.exit_m = a.m THEN a.exit_type END AS exit_type,
    ap.pid IS NOT NULL AS applied
FROM (
    -- obliged to leave (the latest final decision in or before the month; none yet drops
    -- the month) and not exited before the month
    SELECT r.pid, r.m, r.centre_id, MAX(d.decision_m) AS decision_m, MAX(r.exit_m) AS exit_m,
           MAX(r.exit_type) AS exit_type
    FROM (
        -- the centre on the month's first day, or of the first spell entered during the month:
        -- a spell holds the months it touches that no spell started before it (by date_from,
        -- then centre_id) already holds; those spells all start in or before its first month,
        -- so they hold exactly its months up to the latest month they reach (covered_m)
        SELECT n.pid, cal.m, sp.centre_id, sp.exit_m, sp.exit_type
        FROM (
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
        JOIN calendar AS cal ON cal.m >= sp.from_m AND cal.m > COALESCE(sp.covered_m, sp.from_m - 1)
                            AND cal.m <= LEAST(sp.to_m, :last_m)
        WHERE sp.from_m <= :last_m AND (sp.exit_m IS NULL OR sp.exit_m >= cal.m)
    ) AS r
    JOIN (
        SELECT n.pid, CAST(EXTRACT(YEAR FROM d.decision_date) AS INT) * 12 + CAST(EXTRACT(MONTH FROM d.decision_date) AS INT) - 1 AS decision_m,
               d.decision_date
        FROM decisions AS d
        JOIN person_number AS n ON n.person_id = d.person_id
    ) AS d ON d.pid = r.pid AND d.decision_m <= r.m
    GROUP BY r.pid, r.m, r.centre_id
) AS a
JOIN (
    -- person-level columns, joined to the months once
    SELECT pe.person_id, pe.nationality, pe.sex, pe.household, pe.birth_year, pe.dublin, pe.identity_documented,
           pe.prior_absconding, pe.health_issue, pe.special_circumstances, i.pid, na.returnability,
           CAST(EXTRACT(YEAR FROM na.return_agreement_from) AS INT) * 12 + CAST(EXTRACT(MONTH FROM na.return_agreement_from) AS INT) - 1 AS agreement_m,
           CAST(EXTRACT(YEAR FROM f.first_from) AS INT) * 12 + CAST(EXTRACT(MONTH FROM f.first_from) AS INT) - 1 AS first_m
    FROM persons AS pe
    JOIN person_number AS i ON i.person_id = pe.person_id
    LEFT JOIN nationalities AS na ON na.nationality = pe.nationality
    JOIN (SELECT person_id, MIN(date_from) AS first_from FROM residence GROUP BY person_id) AS f
      ON f.person_id = pe.person_id
) AS p ON p.pid = a.pid
LEFT JOIN centres AS c ON c.centre_id = a.centre_id
LEFT JOIN (
    -- the measure of the month (the earliest started, then the lowest code) and whether one
    -- started in the month; end_date inclusive, ongoing to the observation end
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
) AS pa ON pa.pid = a.pid AND pa.m = a.m
LEFT JOIN (
    SELECT DISTINCT n.pid,
           CAST(EXTRACT(YEAR FROM ap.application_date) AS INT) * 12 + CAST(EXTRACT(MONTH FROM ap.application_date) AS INT) - 1 AS m
    FROM applications AS ap
    JOIN person_number AS n ON n.person_id = ap.person_id
) AS ap ON ap.pid = a.pid AND ap.m = a.m
ORDER BY a.pid, a.m
