-- Core schema version 2: the person-month panel as a table (rebuilt after each load)
-- and the fingerprint of the pseudonym key and the notices of each load.

CREATE TABLE person_month (
    person_id VARCHAR,
    month DATE,
    period VARCHAR,
    centre_id VARCHAR,
    centre_type VARCHAR,
    region VARCHAR,
    municipality VARCHAR,
    nationality VARCHAR,
    returnability VARCHAR,
    return_agreement BOOLEAN,
    sex VARCHAR,
    household VARCHAR,
    age INTEGER,
    age_band VARCHAR,
    dublin BOOLEAN,
    identity_documented BOOLEAN,
    prior_absconding BOOLEAN,
    health_issue BOOLEAN,
    special_circumstances BOOLEAN,
    months_since_decision INTEGER,
    months_in_reception INTEGER,
    measure VARCHAR,
    participating BOOLEAN,
    enrolled BOOLEAN,
    exit_type VARCHAR,
    applied BOOLEAN
);

ALTER TABLE loads ADD COLUMN key_fingerprint VARCHAR;
ALTER TABLE loads ADD COLUMN notices VARCHAR;
