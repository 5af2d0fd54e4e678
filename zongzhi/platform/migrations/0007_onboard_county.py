from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0006_ops_cli_case_lookup_indexes')]

    initial = False

    operations = [
        ops.CreateModel(
            name='House',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('code', fields.CharField(unique=True, description="The county's house code (idempotent imports)", max_length=60)),
                ('address', fields.CharField(max_length=255)),
                ('building', fields.CharField(default='', max_length=40)),
                ('entrance', fields.CharField(default='', description='单元 (building unit / entrance)', max_length=40)),
                ('room', fields.CharField(default='', max_length=40)),
                ('grid', fields.ForeignKeyField('models.Grid', source_field='grid_id', db_constraint=True, to_field='id', related_name='houses', on_delete=OnDelete.RESTRICT)),
                ('use', fields.CharField(default='residential', description='residential|rental|business|vacant|other', max_length=20)),
                ('lat', fields.FloatField(null=True)),
                ('lng', fields.FloatField(null=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'house', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A house or flat (房屋): address, building, unit, room, its grid and its use.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='HouseMember',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('house', fields.ForeignKeyField('models.House', source_field='house_id', db_constraint=True, to_field='id', related_name='members', on_delete=OnDelete.CASCADE)),
                ('person', fields.ForeignKeyField('models.Person', source_field='person_id', db_constraint=True, to_field='id', related_name='house_links', on_delete=OnDelete.CASCADE)),
                ('role', fields.CharField(description='owner|occupant|tenant', max_length=10)),
                ('relation', fields.CharField(default='', description='户主/配偶/子女/父母/其他', max_length=20)),
            ],
            options={'table': 'house_member', 'app': 'models', 'unique_together': (('house', 'person'),), 'pk_attr': 'id', 'table_description': 'A person linked to a house: owner or occupant, with their relation to the householder (户主).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='OrgUnit',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(max_length=120)),
                ('kind', fields.CharField(description='enterprise|shop|school|organisation|other', max_length=20)),
                ('credit_code', fields.CharField(unique=True, description='统一社会信用代码 (18 characters)', max_length=18)),
                ('address', fields.CharField(default='', max_length=255)),
                ('grid', fields.ForeignKeyField('models.Grid', source_field='grid_id', db_constraint=True, to_field='id', related_name='org_units', on_delete=OnDelete.RESTRICT)),
                ('contact_name', fields.CharField(default='', max_length=60)),
                ('contact_phone_enc', fields.TextField(null=True, unique=False)),
                ('contact_phone_hash', fields.CharField(null=True, db_index=True, max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'org_unit', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A unit (单位): enterprise, shop, school or organisation, with its unified social credit code.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='CaseLink',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('case', fields.ForeignKeyField('models.Case', source_field='case_id', db_constraint=True, to_field='id', related_name='registry_links', on_delete=OnDelete.CASCADE)),
                ('house', fields.ForeignKeyField('models.House', source_field='house_id', null=True, db_constraint=True, to_field='id', related_name='case_links', on_delete=OnDelete.CASCADE)),
                ('org_unit', fields.ForeignKeyField('models.OrgUnit', source_field='org_unit_id', null=True, db_constraint=True, to_field='id', related_name='case_links', on_delete=OnDelete.CASCADE)),
            ],
            options={'table': 'case_link', 'app': 'models', 'pk_attr': 'id', 'table_description': "A case's link to a house or a unit (people are linked as parties)."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='PersonTag',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('person', fields.ForeignKeyField('models.Person', source_field='person_id', db_constraint=True, to_field='id', related_name='key_tags', on_delete=OnDelete.CASCADE)),
                ('tag', fields.CharField(max_length=30)),
                ('note', fields.CharField(default='', max_length=255)),
                ('created_by', fields.ForeignKeyField('models.User', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name='+', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'person_tag', 'app': 'models', 'unique_together': (('person', 'tag'),), 'pk_attr': 'id', 'table_description': "A key-group tag (重点人群: 独居老人, 重点人员, ...) on a person, visible only to the tag's roles."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Visit',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('worker', fields.ForeignKeyField('models.User', source_field='worker_id', db_constraint=True, to_field='id', related_name='visits', on_delete=OnDelete.RESTRICT)),
                ('grid', fields.ForeignKeyField('models.Grid', source_field='grid_id', db_constraint=True, to_field='id', related_name='visits', on_delete=OnDelete.RESTRICT)),
                ('at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('house', fields.ForeignKeyField('models.House', source_field='house_id', null=True, db_constraint=True, to_field='id', related_name='visits', on_delete=OnDelete.SET_NULL)),
                ('person', fields.ForeignKeyField('models.Person', source_field='person_id', null=True, db_constraint=True, to_field='id', related_name='visits', on_delete=OnDelete.SET_NULL)),
                ('findings', fields.TextField(default='', unique=False)),
                ('case', fields.ForeignKeyField('models.Case', source_field='case_id', null=True, db_constraint=True, to_field='id', related_name='visits', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'visit', 'app': 'models', 'pk_attr': 'id', 'table_description': "A grid worker's visit (民情日记): who, when, where, what was found, and the case it became."},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Center',
            name='polygon',
            field=fields.JSONField(null=True, description='GeoJSON boundary (WGS-84), if drawn', encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads),
        ),
        ops.AddField(
            model_name='Grid',
            name='datum',
            field=fields.CharField(default='wgs84', description='Datum the boundary arrived in (stored as WGS-84)', max_length=10),
        ),
    ]
