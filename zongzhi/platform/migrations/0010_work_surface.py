from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0009_seed_practices')]

    initial = False

    operations = [
        ops.CreateModel(
            name='NotificationRead',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('notification', fields.ForeignKeyField('models.Notification', source_field='notification_id', db_constraint=True, to_field='id', related_name='reads', on_delete=OnDelete.CASCADE)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='notification_reads', on_delete=OnDelete.CASCADE)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'notification_read', 'app': 'models', 'unique_together': (('notification', 'user'),), 'pk_attr': 'id', 'table_description': "One reader of a notification sent to a role: each of the role's users reads it on their own."},
            bases=['Model'],
        ),
        ops.AddIndex(
            model_name='Case',
            index=Index(fields=['center_path', 'updated_at', 'id']),
        ),
        ops.AddIndex(
            model_name='Case',
            index=Index(fields=['center_path', 'resolve_by', 'id']),
        ),
        ops.AddIndex(
            model_name='Case',
            index=Index(fields=['center_path', 'severity', 'id']),
        ),
        ops.AlterModelOptions(
            name='Notification',
            options={'table': 'notification', 'app': 'models', 'indexes': [Index(fields=['user_id', 'id']), Index(fields=['center_id', 'role', 'id'])], 'pk_attr': 'id', 'table_description': 'A message to a user or to everyone with a role at a center (the inbox, services.inbox).'},
        ),
        ops.AlterField(
            model_name='Notification',
            name='read_at',
            field=fields.DatetimeField(null=True, description="read by its user (a role's: see NotificationRead)", auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Notification',
            name='kind',
            field=fields.CharField(default='rule', description='rule|overdue|supervision|whistle|returned', max_length=20),
        ),
        ops.AddIndex(
            model_name='Notification',
            index=Index(fields=['user_id', 'id']),
        ),
        ops.AddIndex(
            model_name='Notification',
            index=Index(fields=['center_id', 'role', 'id']),
        ),
    ]
