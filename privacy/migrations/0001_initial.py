"""The access log, append-only: on PostgreSQL a trigger refuses UPDATE and DELETE whatever
code or SQL session tries (the model refuses them on both databases)."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

FORWARD = """
CREATE OR REPLACE FUNCTION privacy_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER privacy_accesslog_append_only
    BEFORE UPDATE OR DELETE ON privacy_accesslog
    FOR EACH ROW EXECUTE FUNCTION privacy_refuse_change();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS privacy_accesslog_append_only ON privacy_accesslog;
DROP FUNCTION IF EXISTS privacy_refuse_change();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='AccessLog',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('at', models.DateTimeField(db_index=True, default=django.utils.timezone.now, editable=False, verbose_name='when')),
                ('kind', models.CharField(choices=[('full_id', 'Full ID number viewed'), ('full_card', 'Full card number viewed'), ('attachment', 'Attachment downloaded'), ('full_export', 'Export with full ID numbers'), ('bank_file', 'Bank file downloaded')], max_length=20, verbose_name='kind')),
                ('object_id', models.PositiveBigIntegerField(blank=True, null=True, verbose_name='object id')),
                ('object_label', models.CharField(blank=True, max_length=200, verbose_name='object')),
                ('reference', models.CharField(blank=True, db_index=True, max_length=40, verbose_name='reference')),
                ('detail', models.TextField(blank=True, verbose_name='detail')),
                ('ip', models.GenericIPAddressField(blank=True, null=True, verbose_name='IP address')),
                ('path', models.CharField(blank=True, max_length=300, verbose_name='path')),
                ('user_agent', models.CharField(blank=True, max_length=200, verbose_name='user agent')),
                ('content_type', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='contenttypes.contenttype', verbose_name='object type')),
                ('user', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='user')),
            ],
            options={
                'verbose_name': 'access log entry',
                'verbose_name_plural': 'access log',
                'ordering': ['-at', '-pk'],
                'default_permissions': ('view',),
                'indexes': [models.Index(fields=['kind', 'at'], name='privacy_log_kind_at')],
            },
        ),
        migrations.RunPython(forward, backward),
    ]
