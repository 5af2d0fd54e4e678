from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0004_sec_audit')]

    initial = False

    operations = [
        ops.AddField(
            model_name='CaseParty',
            name='blind',
            field=fields.BooleanField(default=False, description='linked by an ID number whose record the filer could not see: the party shows it masked'),
        ),
        ops.AlterModelOptions(
            name='Ruleset',
            options={'table': 'ruleset', 'app': 'models', 'pk_attr': 'id', 'table_description': "A named policy. Its ``center`` owns it: only rule authors of that center's subtree change it."},
        ),
        ops.AddField(
            model_name='Ruleset',
            name='center',
            field=fields.ForeignKeyField('models.Center', source_field='center_id', null=True, db_constraint=True, to_field='id', related_name='rulesets', on_delete=OnDelete.RESTRICT),
        ),
    ]
