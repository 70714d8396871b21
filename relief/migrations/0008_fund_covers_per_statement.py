"""The fund-cover guard once per statement instead of once per payout row (PostgreSQL).

The row trigger of 0004 locked the account and summed all of its payouts for every inserted
row. A 10,000-row ledger import (one COPY) ran that sum 10,000 times over a growing table,
with a plan cached while the table was small (a sequential scan): the COPY took 20-30 s, all
of it holding the fund-account locks, so payouts of the same accounts waited that long (issue
12, finding 5). The statement trigger sees the statement's new rows as a transition table,
locks each account they draw on (in id order, once) and checks income against payouts once per
account: the same rule for every writer, for a single payout and a bulk load alike.
"""

from django.db import migrations

PER_STATEMENT = """
DROP TRIGGER IF EXISTS relief_disbursement_fund_covers ON relief_disbursement;
DROP FUNCTION IF EXISTS relief_disbursement_fund_covers();

CREATE FUNCTION relief_disbursement_fund_covers() RETURNS trigger AS $$
DECLARE
    acct record;
    missing record;
    income numeric;
    paid numeric;
BEGIN
    -- A payout drawing on an account that does not exist: nothing can cover it.
    SELECT n.town_id, n.fund_source, n.fund_year INTO missing FROM relief_new_payouts n
        WHERE n.amount > 0 AND NOT EXISTS (
            SELECT 1 FROM relief_fundaccount a
            WHERE a.town_id = n.town_id AND a.source = n.fund_source AND a.year = n.fund_year)
        LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'fund % % % cannot cover a payout: there is no such account',
            missing.town_id, missing.fund_source, missing.fund_year
            USING ERRCODE = 'check_violation';
    END IF;
    -- Lock the accounts drawn on (reversals give money back and need no check), then check
    -- each: its income covers all of its payouts, these included (this is AFTER INSERT).
    FOR acct IN
        SELECT a.id, a.town_id, a.source, a.year FROM relief_fundaccount a
        WHERE EXISTS (
            SELECT 1 FROM relief_new_payouts n
            WHERE n.amount > 0 AND n.town_id = a.town_id AND n.fund_source = a.source
              AND n.fund_year = a.year)
        ORDER BY a.id
        FOR UPDATE
    LOOP
        SELECT COALESCE(SUM(amount), 0) INTO income FROM relief_fundincome
            WHERE account_id = acct.id;
        SELECT COALESCE(SUM(amount), 0) INTO paid FROM relief_disbursement
            WHERE town_id = acct.town_id AND fund_source = acct.source AND fund_year = acct.year;
        IF income - paid < 0 THEN
            RAISE EXCEPTION 'fund % % % cannot cover its payouts (income %, paid %)',
                acct.town_id, acct.source, acct.year, income, paid
                USING ERRCODE = 'check_violation';
        END IF;
    END LOOP;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER relief_disbursement_fund_covers
    AFTER INSERT ON relief_disbursement
    REFERENCING NEW TABLE AS relief_new_payouts
    FOR EACH STATEMENT EXECUTE FUNCTION relief_disbursement_fund_covers();
"""

PER_ROW = """
DROP TRIGGER IF EXISTS relief_disbursement_fund_covers ON relief_disbursement;
DROP FUNCTION IF EXISTS relief_disbursement_fund_covers();

CREATE FUNCTION relief_disbursement_fund_covers() RETURNS trigger AS $$
DECLARE
    acct bigint;
    income numeric;
    paid numeric;
BEGIN
    IF NEW.amount <= 0 THEN
        RETURN NEW;
    END IF;
    SELECT id INTO acct FROM relief_fundaccount
        WHERE town_id = NEW.town_id AND source = NEW.fund_source AND year = NEW.fund_year
        FOR UPDATE;
    SELECT COALESCE(SUM(amount), 0) INTO income FROM relief_fundincome WHERE account_id = acct;
    SELECT COALESCE(SUM(amount), 0) INTO paid FROM relief_disbursement
        WHERE town_id = NEW.town_id AND fund_source = NEW.fund_source
          AND fund_year = NEW.fund_year;
    IF acct IS NULL OR income - paid - NEW.amount < 0 THEN
        RAISE EXCEPTION 'fund % % % cannot cover a payout of %',
            NEW.town_id, NEW.fund_source, NEW.fund_year, NEW.amount
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER relief_disbursement_fund_covers
    BEFORE INSERT ON relief_disbursement
    FOR EACH ROW EXECUTE FUNCTION relief_disbursement_fund_covers();
"""


def per_statement(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PER_STATEMENT, params=None)


def per_row(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PER_ROW, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("relief", "0007_idempotency_keys"),
    ]

    operations = [
        migrations.RunPython(per_statement, per_row),
    ]
