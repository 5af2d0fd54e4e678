from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0002_case_list_indexes')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Evidence',
            name='claimed_at',
            field=fields.DatetimeField(null=True, description='When a confirmation began checking the upload (a stale claim is taken over)', auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Evidence',
            name='staging_key',
            field=fields.CharField(null=True, description='Where the client uploads before confirmation', max_length=400),
        ),
        ops.AddField(
            model_name='Evidence',
            name='version_id',
            field=fields.CharField(null=True, description='Store version of the confirmed object, served by downloads', max_length=200),
        ),
    ]
