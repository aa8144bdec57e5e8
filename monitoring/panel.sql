-- The person-month panel (see docs/data-contract.md, "The person-month panel").
-- Parameter $last_month: the last month of the panel (first day), or NULL for the month of
-- the latest date found in the registers (the extract's observation end).
INSERT INTO person_month
WITH
observation AS (
    SELECT CAST(date_trunc('month', coalesce(CAST($last_month AS DATE), max(d))) AS DATE) AS last_month
    FROM (
        SELECT max(date_from) AS d FROM residence
        UNION ALL SELECT max(date_to - 1) FROM residence
        UNION ALL SELECT max(decision_date) FROM decisions
        UNION ALL SELECT max(start_date) FROM participation
        UNION ALL SELECT max(end_date) FROM participation
        UNION ALL SELECT max(application_date) FROM applications
        UNION ALL SELECT max(exit_date) FROM exits
        UNION ALL SELECT max(survey_date) FROM surveys
    )
),
spell_month AS (
    -- every calendar month a residence spell touches, up to the observation end; a spell
    -- ended by the person's exit (date_to = exit_date) reaches the month of the exit
    SELECT r.person_id, r.centre_id, r.date_from,
           CAST(unnest(generate_series(
               CAST(date_trunc('month', r.date_from) AS TIMESTAMP),
               CAST(date_trunc('month', least(coalesce(
                   CASE WHEN e.exit_date = r.date_to THEN r.date_to ELSE r.date_to - 1 END,
                   o.last_month), o.last_month)) AS TIMESTAMP),
               INTERVAL 1 MONTH)) AS DATE) AS month
    FROM residence r
    CROSS JOIN observation o
    LEFT JOIN exits e ON e.person_id = r.person_id
    WHERE r.date_from < CAST(o.last_month + INTERVAL 1 MONTH AS DATE)
),
resident_month AS (
    -- the centre on the month's first day, or of the first spell entered during the month
    SELECT person_id, month, arg_min(centre_id, date_from) AS centre_id
    FROM spell_month
    GROUP BY person_id, month
),
first_residence AS (
    SELECT person_id, min(date_from) AS first_from FROM residence GROUP BY person_id
),
first_decision AS (
    SELECT person_id, min(decision_date) AS first_date FROM decisions GROUP BY person_id
),
at_risk AS MATERIALIZED (
    SELECT m.person_id, m.month, CAST(m.month + INTERVAL 1 MONTH - INTERVAL 1 DAY AS DATE) AS month_end,
           m.centre_id, e.exit_date, e.exit_type
    FROM resident_month m
    JOIN first_decision f ON f.person_id = m.person_id
    LEFT JOIN exits e ON e.person_id = m.person_id
    WHERE f.first_date < CAST(m.month + INTERVAL 1 MONTH AS DATE)
      AND (e.exit_date IS NULL OR e.exit_date >= m.month)
),
latest_decision AS (
    SELECT a.person_id, a.month, d.decision_date
    FROM at_risk a
    ASOF JOIN decisions d ON d.person_id = a.person_id AND a.month_end >= d.decision_date
),
participating AS (
    SELECT a.person_id, a.month,
           arg_min(p.measure, strftime(p.start_date, '%Y-%m-%d') || ' ' || p.measure) AS measure,
           bool_or(p.start_date >= a.month) AS enrolled
    FROM at_risk a
    JOIN participation p
      ON p.person_id = a.person_id
     AND p.start_date <= a.month_end
     AND (p.end_date IS NULL OR p.end_date >= a.month)
    GROUP BY a.person_id, a.month
),
applied AS (
    SELECT DISTINCT a.person_id, a.month
    FROM at_risk a
    JOIN applications ap
      ON ap.person_id = a.person_id AND ap.application_date BETWEEN a.month AND a.month_end
)
SELECT
    a.person_id,
    a.month,
    strftime(a.month, '%Y-%m') AS period,
    a.centre_id,
    c.centre_type,
    c.region,
    c.municipality,
    p.nationality,
    n.returnability,
    coalesce(n.return_agreement_from <= a.month_end, false) AS return_agreement,
    p.sex,
    p.household,
    CAST(year(a.month) - p.birth_year AS INTEGER) AS age,
    CASE
        WHEN year(a.month) - p.birth_year < 18 THEN '0-17'
        WHEN year(a.month) - p.birth_year < 25 THEN '18-24'
        WHEN year(a.month) - p.birth_year < 35 THEN '25-34'
        WHEN year(a.month) - p.birth_year < 45 THEN '35-44'
        WHEN year(a.month) - p.birth_year < 55 THEN '45-54'
        ELSE '55+'
    END AS age_band,
    p.dublin,
    p.identity_documented,
    p.prior_absconding,
    p.health_issue,
    p.special_circumstances,
    CAST((year(a.month) * 12 + month(a.month))
         - (year(d.decision_date) * 12 + month(d.decision_date)) AS INTEGER) AS months_since_decision,
    CAST((year(a.month) * 12 + month(a.month))
         - (year(r.first_from) * 12 + month(r.first_from)) AS INTEGER) AS months_in_reception,
    pa.measure,
    pa.person_id IS NOT NULL AS participating,
    coalesce(pa.enrolled, false) AS enrolled,
    CASE WHEN a.exit_date <= a.month_end THEN a.exit_type END AS exit_type,
    ap.person_id IS NOT NULL AS applied
FROM at_risk a
JOIN persons p ON p.person_id = a.person_id
LEFT JOIN nationalities n ON n.nationality = p.nationality
LEFT JOIN centres c ON c.centre_id = a.centre_id
JOIN first_residence r ON r.person_id = a.person_id
JOIN latest_decision d ON d.person_id = a.person_id AND d.month = a.month
LEFT JOIN participating pa ON pa.person_id = a.person_id AND pa.month = a.month
LEFT JOIN applied ap ON ap.person_id = a.person_id AND ap.month = a.month
ORDER BY a.person_id, a.month
