-- Core schema version 1: the contract tables and the record of loads.
-- Frozen: later changes go into new migration files, never into this one.

CREATE TABLE nationalities (
    nationality VARCHAR,
    name VARCHAR,
    returnability VARCHAR,
    return_agreement_from DATE
);

CREATE TABLE persons (
    person_id VARCHAR,
    birth_year INTEGER,
    sex VARCHAR,
    nationality VARCHAR,
    household VARCHAR,
    dublin BOOLEAN,
    identity_documented BOOLEAN,
    prior_absconding BOOLEAN,
    health_issue BOOLEAN,
    special_circumstances BOOLEAN
);

CREATE TABLE centres (
    centre_id VARCHAR,
    name VARCHAR,
    centre_type VARCHAR,
    region VARCHAR,
    municipality VARCHAR
);

CREATE TABLE residence (
    person_id VARCHAR,
    centre_id VARCHAR,
    date_from DATE,
    date_to DATE
);

CREATE TABLE decisions (
    person_id VARCHAR,
    decision_date DATE,
    case_type VARCHAR
);

CREATE TABLE participation (
    person_id VARCHAR,
    measure VARCHAR,
    start_date DATE,
    end_date DATE,
    sessions_planned INTEGER,
    sessions_attended INTEGER,
    completed BOOLEAN,
    centre_id VARCHAR
);

CREATE TABLE applications (
    person_id VARCHAR,
    application_date DATE,
    programme VARCHAR
);

CREATE TABLE exits (
    person_id VARCHAR,
    exit_date DATE,
    exit_type VARCHAR
);

CREATE TABLE surveys (
    person_id VARCHAR,
    survey_date DATE,
    instrument VARCHAR,
    total DOUBLE,
    item_01 DOUBLE,
    item_02 DOUBLE,
    item_03 DOUBLE,
    item_04 DOUBLE,
    item_05 DOUBLE,
    item_06 DOUBLE,
    item_07 DOUBLE,
    item_08 DOUBLE,
    item_09 DOUBLE,
    item_10 DOUBLE,
    item_11 DOUBLE,
    item_12 DOUBLE,
    item_13 DOUBLE,
    item_14 DOUBLE,
    item_15 DOUBLE,
    item_16 DOUBLE,
    item_17 DOUBLE,
    item_18 DOUBLE,
    item_19 DOUBLE,
    item_20 DOUBLE,
    item_21 DOUBLE,
    item_22 DOUBLE,
    item_23 DOUBLE,
    item_24 DOUBLE,
    item_25 DOUBLE
);

CREATE TABLE costs (
    measure VARCHAR,
    centre_id VARCHAR,
    period VARCHAR,
    amount_nok DOUBLE
);

CREATE TABLE loads (
    load_id INTEGER NOT NULL,
    loaded_at TIMESTAMP NOT NULL,
    source VARCHAR NOT NULL,
    table_name VARCHAR NOT NULL,
    source_file VARCHAR NOT NULL,
    row_count BIGINT NOT NULL,
    content_hash VARCHAR NOT NULL,
    action VARCHAR NOT NULL,
    replaced_load_id INTEGER,
    replaced_row_count BIGINT
);
