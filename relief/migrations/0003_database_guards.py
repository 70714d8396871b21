"""Guards the database keeps by itself, whatever code talks to it (PostgreSQL only).

- The audit trail is append-only: UPDATE and DELETE raise.
- Payouts are never edited or deleted, and their sum never exceeds the approved amount.
SQLite has no such triggers here: there the services and the CHECK constraints guard alone.
"""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION relief_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER relief_auditentry_append_only
    BEFORE UPDATE OR DELETE ON relief_auditentry
    FOR EACH ROW EXECUTE FUNCTION relief_refuse_change();

CREATE TRIGGER relief_disbursement_append_only
    BEFORE UPDATE OR DELETE ON relief_disbursement
    FOR EACH ROW EXECUTE FUNCTION relief_refuse_change();

CREATE OR REPLACE FUNCTION relief_disbursement_within_approved() RETURNS trigger AS $$
DECLARE
    approved numeric;
    paid numeric;
BEGIN
    -- Lock the application row so two concurrent payouts are checked one after the other.
    SELECT approved_amount INTO approved FROM relief_application
        WHERE id = NEW.application_id FOR UPDATE;
    SELECT COALESCE(SUM(amount), 0) INTO paid FROM relief_disbursement
        WHERE application_id = NEW.application_id;
    IF approved IS NULL OR paid + NEW.amount > approved THEN
        RAISE EXCEPTION 'payouts of application % would exceed its approved amount',
            NEW.application_id USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER relief_disbursement_within_approved
    BEFORE INSERT ON relief_disbursement
    FOR EACH ROW EXECUTE FUNCTION relief_disbursement_within_approved();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS relief_disbursement_within_approved ON relief_disbursement;
DROP FUNCTION IF EXISTS relief_disbursement_within_approved();
DROP TRIGGER IF EXISTS relief_disbursement_append_only ON relief_disbursement;
DROP TRIGGER IF EXISTS relief_auditentry_append_only ON relief_auditentry;
DROP FUNCTION IF EXISTS relief_refuse_change();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("relief", "0002_seed_categories_and_policy")]

    operations = [migrations.RunPython(forward, backward)]
