from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0003_sec_evidence')]

    initial = False

    operations = [
        ops.CreateModel(
            name='AuditChainHead',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('seq', fields.BigIntField(default=0)),
                ('hash', fields.CharField(default='', max_length=64)),
                ('mac', fields.CharField(default='', description='HMAC of seq and hash, against rewinding', max_length=64)),
            ],
            options={'table': 'audit_chain_head', 'app': 'models', 'pk_attr': 'id', 'table_description': 'The last link of the audit chain (one row, id 1). Every append locks it, so appends are serial.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='AuditSubject',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('entry', fields.ForeignKeyField('models.AuditLog', source_field='entry_id', db_constraint=True, to_field='id', related_name='subjects', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharField(description='person or case', max_length=10)),
                ('ref', fields.BigIntField(description="The person's or case's id")),
            ],
            options={'table': 'audit_subject', 'app': 'models', 'indexes': [Index(fields=['kind', 'ref'])], 'pk_attr': 'id', 'table_description': 'Whom or what an audit row concerns (a person, a case), so the log can be searched by them.'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='AuditLog',
            name='hash',
            field=fields.CharField(default='', description='HMAC-SHA256 of this row and prev_hash', max_length=64),
        ),
        ops.AddField(
            model_name='AuditLog',
            name='prev_hash',
            field=fields.CharField(default='', description="The previous row's hash", max_length=64),
        ),
        ops.AddField(
            model_name='AuditLog',
            name='seq',
            field=fields.BigIntField(null=True, unique=True, description='Position in the hash chain (null: written before the chain began)'),
        ),
    ]
