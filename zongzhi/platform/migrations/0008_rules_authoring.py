from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0007_onboard_county')]

    initial = False

    operations = [
        ops.AddField(
            model_name='CalendarDay',
            name='festival',
            field=fields.CharField(null=True, description='the festival whose official holiday begins on this day', max_length=40),
        ),
        ops.AddField(
            model_name='Ruleset',
            name='enabled',
            field=fields.BooleanField(default=True, description='off: its active version is not evaluated'),
        ),
        ops.AddField(
            model_name='RulesetVersion',
            name='activated_by',
            field=fields.ForeignKeyField('models.User', source_field='activated_by_id', null=True, description='who activated it last', db_constraint=True, to_field='id', related_name='ruleset_activations', on_delete=OnDelete.SET_NULL),
        ),
        ops.AddField(
            model_name='RulesetVersion',
            name='activation_reason',
            field=fields.TextField(default='', description='why it was activated last', unique=False),
        ),
    ]
