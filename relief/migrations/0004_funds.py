"""Funds: accounts per town, source and year with their income; 十元捐 campaigns; payment
batches; hardship files; payouts drawn from an account and reversed by compensating entries.

Existing payouts get their town and fund year, and each account they draw on gets an opening
income equal to what was already paid, so no account starts below zero.

PostgreSQL also gets guards of its own (whatever code writes):
- fund income is append-only, like payouts and the audit trail;
- a payout the account's entries cannot cover is refused (the account row is locked first, so
  two payouts against a nearly empty account are checked one after the other);
- the payout-sum trigger of 0003 now also refuses a sum below zero and checks that a reversal
  mirrors its payout (same case, town, source, year; the negative amount) and that a payout's
  town is its case's town.
"""

import django.db.models.deletion
import relief.idcard
from django.conf import settings
from django.db import migrations, models



OPENING_NOTE = "期初余额：启用资金管理前已记录的发放"


def fill_payout_funds(apps, schema_editor):
    Disbursement = apps.get_model("relief", "Disbursement")
    FundAccount = apps.get_model("relief", "FundAccount")
    FundIncome = apps.get_model("relief", "FundIncome")
    postgres = schema_editor.connection.vendor == "postgresql"
    if postgres:
        # Payouts are append-only (0003); filling the new columns is the one sanctioned edit.
        schema_editor.execute(
            "ALTER TABLE relief_disbursement DISABLE TRIGGER relief_disbursement_append_only"
        )
    accounts = {}
    for payout in Disbursement.objects.select_related("application__union").order_by("pk"):
        payout.town_id = payout.application.union.parent_id
        payout.fund_year = payout.paid_on.year
        payout.save(update_fields=["town", "fund_year"])
        key = (payout.town_id, payout.fund_source, payout.fund_year)
        total, first = accounts.get(key, (0, payout))
        accounts[key] = (total + payout.amount, first)
    for (town_id, source, year), (total, first) in accounts.items():
        account = FundAccount.objects.create(
            town_id=town_id, source=source, year=year, income_total=total, paid_total=total
        )
        FundIncome.objects.create(
            account=account,
            amount=total,
            received_on=first.paid_on,
            note=OPENING_NOTE,
            recorded_by_id=first.recorded_by_id,
        )
    if postgres:
        schema_editor.execute(
            "ALTER TABLE relief_disbursement ENABLE TRIGGER relief_disbursement_append_only"
        )
        # Fire the deferred foreign-key checks now, so the ALTER TABLEs below may run.
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")


GUARDS = """
CREATE TRIGGER relief_fundincome_append_only
    BEFORE UPDATE OR DELETE ON relief_fundincome
    FOR EACH ROW EXECUTE FUNCTION relief_refuse_change();

CREATE OR REPLACE FUNCTION relief_disbursement_within_approved() RETURNS trigger AS $$
DECLARE
    approved numeric;
    case_town bigint;
    paid numeric;
    original relief_disbursement%ROWTYPE;
BEGIN
    -- Lock the application row so two concurrent payouts are checked one after the other.
    SELECT a.approved_amount, u.parent_id INTO approved, case_town
        FROM relief_application a JOIN unions_union u ON u.id = a.union_id
        WHERE a.id = NEW.application_id FOR UPDATE OF a;
    IF NEW.town_id IS DISTINCT FROM case_town THEN
        RAISE EXCEPTION 'payout of application % must draw on its own town''s funds',
            NEW.application_id USING ERRCODE = 'check_violation';
    END IF;
    SELECT COALESCE(SUM(amount), 0) INTO paid FROM relief_disbursement
        WHERE application_id = NEW.application_id;
    IF approved IS NULL OR paid + NEW.amount > approved THEN
        RAISE EXCEPTION 'payouts of application % would exceed its approved amount',
            NEW.application_id USING ERRCODE = 'check_violation';
    END IF;
    IF paid + NEW.amount < 0 THEN
        RAISE EXCEPTION 'payouts of application % would sum below zero',
            NEW.application_id USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.reverses_id IS NOT NULL THEN
        SELECT * INTO original FROM relief_disbursement WHERE id = NEW.reverses_id;
        IF original.reverses_id IS NOT NULL
            OR original.application_id <> NEW.application_id
            OR original.amount <> -NEW.amount
            OR original.town_id <> NEW.town_id
            OR original.fund_source <> NEW.fund_source
            OR original.fund_year <> NEW.fund_year THEN
            RAISE EXCEPTION 'reversal must mirror payout % exactly', NEW.reverses_id
                USING ERRCODE = 'check_violation';
        END IF;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION relief_disbursement_fund_covers() RETURNS trigger AS $$
DECLARE
    acct bigint;
    income numeric;
    paid numeric;
BEGIN
    IF NEW.amount <= 0 THEN
        RETURN NEW;  -- a reversal gives money back to its account
    END IF;
    -- Lock the account row: payouts against one account are checked one after the other.
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

UNGUARDS = """
DROP TRIGGER IF EXISTS relief_disbursement_fund_covers ON relief_disbursement;
DROP FUNCTION IF EXISTS relief_disbursement_fund_covers();
DROP TRIGGER IF EXISTS relief_fundincome_append_only ON relief_fundincome;
CREATE OR REPLACE FUNCTION relief_disbursement_within_approved() RETURNS trigger AS $$
DECLARE
    approved numeric;
    paid numeric;
BEGIN
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
"""


def guard(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(GUARDS, params=None)


def unguard(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(UNGUARDS, params=None)


class Migration(migrations.Migration):

    dependencies = [
        ('relief', '0003_database_guards'),
        ('unions', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='BatchItem',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('amount', models.DecimalField(decimal_places=2, max_digits=12, verbose_name='amount')),
            ],
            options={
                'verbose_name': 'batch item',
                'verbose_name_plural': 'batch items',
                'ordering': ['pk'],
            },
        ),
        migrations.CreateModel(
            name='DonationCampaign',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('year', models.PositiveSmallIntegerField(verbose_name='year')),
                ('starts_on', models.DateField(verbose_name='starts on')),
                ('ends_on', models.DateField(verbose_name='ends on')),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created at')),
            ],
            options={
                'verbose_name': 'ten-yuan donation campaign',
                'verbose_name_plural': 'ten-yuan donation campaigns',
                'ordering': ['-year', 'town__path'],
            },
        ),
        migrations.CreateModel(
            name='DonationCollection',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('collected_on', models.DateField(verbose_name='collected on')),
                ('donor_count', models.PositiveIntegerField(verbose_name='number of donors')),
                ('amount', models.DecimalField(decimal_places=2, max_digits=12, verbose_name='amount')),
                ('receipt_numbers', models.CharField(blank=True, max_length=500, verbose_name='receipt numbers')),
                ('recorded_at', models.DateTimeField(auto_now_add=True, verbose_name='recorded at')),
            ],
            options={
                'verbose_name': 'donation collection',
                'verbose_name_plural': 'donation collections',
                'ordering': ['-collected_on', '-pk'],
            },
        ),
        migrations.CreateModel(
            name='Donor',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=50, verbose_name='name')),
                ('id_number', models.CharField(blank=True, max_length=18, validators=[relief.idcard.validate_id_number], verbose_name='ID number')),
                ('amount', models.DecimalField(decimal_places=2, max_digits=12, verbose_name='amount')),
                ('receipt_no', models.CharField(blank=True, max_length=50, verbose_name='receipt number')),
            ],
            options={
                'verbose_name': 'donor',
                'verbose_name_plural': 'donors',
                'ordering': ['pk'],
            },
        ),
        migrations.CreateModel(
            name='FundAccount',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('source', models.CharField(choices=[('district', 'District allocation'), ('town', 'Town funds'), ('donation', 'Ten-yuan donations')], max_length=10, verbose_name='fund source')),
                ('year', models.PositiveSmallIntegerField(verbose_name='year')),
                ('income_total', models.DecimalField(decimal_places=2, default=0, editable=False, max_digits=12, verbose_name='income')),
                ('paid_total', models.DecimalField(decimal_places=2, default=0, editable=False, max_digits=12, verbose_name='paid')),
            ],
            options={
                'verbose_name': 'fund account',
                'verbose_name_plural': 'fund accounts',
                'ordering': ['-year', 'town__path', 'source'],
            },
        ),
        migrations.CreateModel(
            name='FundIncome',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('amount', models.DecimalField(decimal_places=2, max_digits=12, verbose_name='amount')),
                ('received_on', models.DateField(verbose_name='received on')),
                ('document_no', models.CharField(blank=True, max_length=60, verbose_name='document number')),
                ('note', models.CharField(blank=True, max_length=200, verbose_name='note')),
                ('recorded_at', models.DateTimeField(auto_now_add=True, verbose_name='recorded at')),
            ],
            options={
                'verbose_name': 'fund income',
                'verbose_name_plural': 'fund income',
                'ordering': ['-received_on', '-pk'],
            },
        ),
        migrations.CreateModel(
            name='HardshipFile',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('is_open', models.BooleanField(default=True, verbose_name='open')),
                ('changed_at', models.DateTimeField(auto_now=True, verbose_name='changed at')),
                ('reason', models.TextField(verbose_name='latest reason')),
            ],
            options={
                'verbose_name': 'hardship file',
                'verbose_name_plural': 'hardship files',
                'ordering': ['worker__name'],
            },
        ),
        migrations.CreateModel(
            name='PaymentBatch',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('reference', models.CharField(editable=False, max_length=32, unique=True, verbose_name='batch number')),
                ('title', models.CharField(max_length=200, verbose_name='title')),
                ('fund_source', models.CharField(choices=[('district', 'District allocation'), ('town', 'Town funds'), ('donation', 'Ten-yuan donations')], max_length=10, verbose_name='fund source')),
                ('fund_year', models.PositiveSmallIntegerField(verbose_name='fund year')),
                ('state', models.CharField(choices=[('draft', 'Draft'), ('exported', 'Bank file exported'), ('paid', 'Paid'), ('cancelled', 'Cancelled')], default='draft', editable=False, max_length=10, verbose_name='state')),
                ('bank_paid_on', models.DateField(blank=True, null=True, verbose_name='paid by the bank on')),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created at')),
                ('exported_at', models.DateTimeField(blank=True, null=True, verbose_name='exported at')),
                ('paid_at', models.DateTimeField(blank=True, null=True, verbose_name='marked paid at')),
                ('cancelled_at', models.DateTimeField(blank=True, null=True, verbose_name='cancelled at')),
            ],
            options={
                'verbose_name': 'payment batch',
                'verbose_name_plural': 'payment batches',
                'ordering': ['-created_at', '-pk'],
            },
        ),
        migrations.RemoveConstraint(
            model_name='disbursement',
            name='disbursement_amount_positive',
        ),
        migrations.AddField(
            model_name='disbursement',
            name='fund_year',
            field=models.PositiveSmallIntegerField(null=True, verbose_name='fund year'),
        ),
        migrations.AddField(
            model_name='disbursement',
            name='reason',
            field=models.TextField(blank=True, verbose_name='reason for the reversal'),
        ),
        migrations.AddField(
            model_name='disbursement',
            name='reverses',
            field=models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='reversal', to='relief.disbursement', verbose_name='reverses payout'),
        ),
        migrations.AddField(
            model_name='disbursement',
            name='town',
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='unions.union', verbose_name='town federation'),
        ),
        migrations.AddIndex(
            model_name='disbursement',
            index=models.Index(fields=['town', 'fund_source', 'fund_year'], name='disbursement_fund'),
        ),
        migrations.AddConstraint(
            model_name='disbursement',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('amount__gt', 0), ('reason', ''), ('reverses__isnull', True)), models.Q(('amount__lt', 0), ('reverses__isnull', False), models.Q(('reason', ''), _negated=True)), _connector='OR'), name='disbursement_amount_sign'),
        ),
        migrations.AddField(
            model_name='batchitem',
            name='application',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='batch_items', to='relief.application', verbose_name='application'),
        ),
        migrations.AddField(
            model_name='batchitem',
            name='disbursement',
            field=models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='batch_item', to='relief.disbursement', verbose_name='payout'),
        ),
        migrations.AddField(
            model_name='donationcampaign',
            name='created_by',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='donationcampaign',
            name='town',
            field=models.ForeignKey(limit_choices_to={'level': 'town'}, on_delete=django.db.models.deletion.PROTECT, related_name='donation_campaigns', to='unions.union', verbose_name='town federation'),
        ),
        migrations.AddField(
            model_name='donationcollection',
            name='campaign',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='collections', to='relief.donationcampaign', verbose_name='campaign'),
        ),
        migrations.AddField(
            model_name='donationcollection',
            name='recorded_by',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='recorded by'),
        ),
        migrations.AddField(
            model_name='donationcollection',
            name='union',
            field=models.ForeignKey(limit_choices_to={'level': 'grassroots'}, on_delete=django.db.models.deletion.PROTECT, related_name='donation_collections', to='unions.union', verbose_name='grassroots union'),
        ),
        migrations.AddField(
            model_name='donor',
            name='collection',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='donors', to='relief.donationcollection', verbose_name='collection'),
        ),
        migrations.AddField(
            model_name='fundaccount',
            name='town',
            field=models.ForeignKey(limit_choices_to={'level': 'town'}, on_delete=django.db.models.deletion.PROTECT, related_name='fund_accounts', to='unions.union', verbose_name='town federation'),
        ),
        migrations.AddField(
            model_name='fundincome',
            name='account',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='incomes', to='relief.fundaccount', verbose_name='fund account'),
        ),
        migrations.AddField(
            model_name='fundincome',
            name='collection',
            field=models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='income', to='relief.donationcollection', verbose_name='donation collection'),
        ),
        migrations.AddField(
            model_name='fundincome',
            name='recorded_by',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='recorded by'),
        ),
        migrations.AddField(
            model_name='hardshipfile',
            name='changed_by',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='changed by'),
        ),
        migrations.AddField(
            model_name='hardshipfile',
            name='worker',
            field=models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='hardship_file', to='relief.worker', verbose_name='worker'),
        ),
        migrations.AddField(
            model_name='paymentbatch',
            name='created_by',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='created by'),
        ),
        migrations.AddField(
            model_name='batchitem',
            name='batch',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='items', to='relief.paymentbatch', verbose_name='batch'),
        ),
        migrations.AddConstraint(
            model_name='donationcampaign',
            constraint=models.UniqueConstraint(fields=('town', 'year'), name='donation_campaign_town_year'),
        ),
        migrations.AddConstraint(
            model_name='donationcampaign',
            constraint=models.CheckConstraint(condition=models.Q(('starts_on__lte', models.F('ends_on'))), name='donation_campaign_dates_in_order'),
        ),
        migrations.AddConstraint(
            model_name='donationcollection',
            constraint=models.CheckConstraint(condition=models.Q(('amount__gt', 0)), name='donation_collection_amount_positive'),
        ),
        migrations.AddConstraint(
            model_name='donationcollection',
            constraint=models.CheckConstraint(condition=models.Q(('donor_count__gt', 0)), name='donation_collection_has_donors'),
        ),
        migrations.AddConstraint(
            model_name='donor',
            constraint=models.CheckConstraint(condition=models.Q(('amount__gt', 0)), name='donor_amount_positive'),
        ),
        migrations.AddConstraint(
            model_name='fundaccount',
            constraint=models.UniqueConstraint(fields=('town', 'source', 'year'), name='fund_account_town_source_year'),
        ),
        migrations.AddConstraint(
            model_name='fundaccount',
            constraint=models.CheckConstraint(condition=models.Q(('income_total__gte', 0)), name='fund_account_income_not_negative'),
        ),
        migrations.AddConstraint(
            model_name='fundaccount',
            constraint=models.CheckConstraint(condition=models.Q(('paid_total__gte', 0)), name='fund_account_paid_not_negative'),
        ),
        migrations.AddConstraint(
            model_name='fundaccount',
            constraint=models.CheckConstraint(condition=models.Q(('paid_total__lte', models.F('income_total'))), name='fund_account_not_overdrawn'),
        ),
        migrations.AddConstraint(
            model_name='fundincome',
            constraint=models.CheckConstraint(condition=models.Q(('amount__gt', 0)), name='fund_income_amount_positive'),
        ),
        migrations.AddConstraint(
            model_name='paymentbatch',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('state', 'paid'), _negated=True), ('bank_paid_on__isnull', False), _connector='OR'), name='payment_batch_paid_has_date'),
        ),
        migrations.AddConstraint(
            model_name='batchitem',
            constraint=models.UniqueConstraint(fields=('batch', 'application'), name='batch_item_once'),
        ),
        migrations.AddConstraint(
            model_name='batchitem',
            constraint=models.CheckConstraint(condition=models.Q(('amount__gt', 0)), name='batch_item_amount_positive'),
        ),
        migrations.RunPython(fill_payout_funds, migrations.RunPython.noop),
        migrations.AlterField(
            model_name='disbursement',
            name='town',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='unions.union', verbose_name='town federation'),
        ),
        migrations.AlterField(
            model_name='disbursement',
            name='fund_year',
            field=models.PositiveSmallIntegerField(verbose_name='fund year'),
        ),
        migrations.RunPython(guard, unguard),
    ]
