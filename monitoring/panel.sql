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
person_number AS MATERIALIZED (
    -- integer surrogate of person_id (in person_id order) so that the large joins, groupings
    -- and the final sort work on integers
    SELECT person_id, CAST(row_number() OVER (ORDER BY person_id) AS INTEGER) AS pid FROM persons
),
spell_month AS (
    -- every calendar month a residence spell touches, up to the observation end; a spell
    -- ended by the person's exit (date_to = exit_date) reaches the month of the exit
    SELECT n.pid, r.centre_id, r.date_from,
           CAST(unnest(generate_series(
               CAST(date_trunc('month', r.date_from) AS TIMESTAMP),
               CAST(date_trunc('month', least(coalesce(
                   CASE WHEN e.exit_date = r.date_to THEN r.date_to ELSE r.date_to - 1 END,
                   o.last_month), o.last_month)) AS TIMESTAMP),
               INTERVAL 1 MONTH)) AS DATE) AS month
    FROM residence r
    JOIN person_number n ON n.person_id = r.person_id
    CROSS JOIN observation o
    LEFT JOIN exits e ON e.person_id = r.person_id
    WHERE r.date_from < CAST(o.last_month + INTERVAL 1 MONTH AS DATE)
),
resident_month AS (
    -- the centre on the month's first day, or of the first spell entered during the month
    SELECT pid, month, arg_min(centre_id, date_from) AS centre_id
    FROM spell_month
    GROUP BY pid, month
),
person_info AS MATERIALIZED (
    -- person-level columns, joined to the months once
    SELECT p.*, i.pid, n.returnability, n.return_agreement_from, r.first_from
    FROM persons p
    JOIN person_number i ON i.person_id = p.person_id
    LEFT JOIN nationalities n ON n.nationality = p.nationality
    JOIN (SELECT person_id, min(date_from) AS first_from FROM residence GROUP BY person_id) r
      ON r.person_id = p.person_id
),
at_risk AS (
    -- obliged to leave (the latest final decision on or before the month's last day; none
    -- yet drops the month) and not exited before the month
    SELECT m.pid, m.month, m.month_end, m.centre_id, d.decision_date, e.exit_date, e.exit_type
    FROM (SELECT *, CAST(month + INTERVAL 1 MONTH - INTERVAL 1 DAY AS DATE) AS month_end
          FROM resident_month) m
    ASOF JOIN (SELECT n.pid, d.decision_date FROM decisions d
               JOIN person_number n ON n.person_id = d.person_id) d
      ON d.pid = m.pid AND m.month_end >= d.decision_date
    LEFT JOIN (SELECT n.pid, e.exit_date, e.exit_type FROM exits e
               JOIN person_number n ON n.person_id = e.person_id) e ON e.pid = m.pid
    WHERE e.exit_date IS NULL OR e.exit_date >= m.month
),
participation_month AS (
    -- every month a participation overlaps (end_date inclusive; ongoing to the observation end)
    SELECT n.pid, p.measure, p.start_date,
           CAST(unnest(generate_series(
               CAST(date_trunc('month', p.start_date) AS TIMESTAMP),
               CAST(date_trunc('month', least(coalesce(p.end_date, o.last_month), o.last_month)) AS TIMESTAMP),
               INTERVAL 1 MONTH)) AS DATE) AS month
    FROM participation p
    JOIN person_number n ON n.person_id = p.person_id
    CROSS JOIN observation o
    WHERE p.start_date < CAST(o.last_month + INTERVAL 1 MONTH AS DATE)
),
participating AS (
    SELECT pid, month,
           arg_min(measure, strftime(start_date, '%Y-%m-%d') || ' ' || measure) AS measure,
           bool_or(date_trunc('month', start_date) = month) AS enrolled
    FROM participation_month
    GROUP BY pid, month
),
applied AS (
    SELECT DISTINCT n.pid, CAST(date_trunc('month', a.application_date) AS DATE) AS month
    FROM applications a
    JOIN person_number n ON n.person_id = a.person_id
)
SELECT
    p.person_id,
    a.month,
    strftime(a.month, '%Y-%m') AS period,
    a.centre_id,
    c.centre_type,
    c.region,
    c.municipality,
    p.nationality,
    p.returnability,
    coalesce(p.return_agreement_from <= a.month_end, false) AS return_agreement,
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
         - (year(a.decision_date) * 12 + month(a.decision_date)) AS INTEGER) AS months_since_decision,
    CAST((year(a.month) * 12 + month(a.month))
         - (year(p.first_from) * 12 + month(p.first_from)) AS INTEGER) AS months_in_reception,
    pa.measure,
    pa.pid IS NOT NULL AS participating,
    coalesce(pa.enrolled, false) AS enrolled,
    CASE WHEN a.exit_date <= a.month_end THEN a.exit_type END AS exit_type,
    ap.pid IS NOT NULL AS applied
FROM at_risk a
JOIN person_info p ON p.pid = a.pid
LEFT JOIN centres c ON c.centre_id = a.centre_id
LEFT JOIN participating pa ON pa.pid = a.pid AND pa.month = a.month
LEFT JOIN applied ap ON ap.pid = a.pid AND ap.month = a.month
ORDER BY a.pid, a.month
