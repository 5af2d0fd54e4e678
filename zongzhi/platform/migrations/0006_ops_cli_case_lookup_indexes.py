from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0005_sec_refs')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='Assignment',
            index=Index(fields=['case_id']),
        ),
        ops.AddIndex(
            model_name='Case',
            index=Index(fields=['address', 'created_at']),
        ),
        ops.AddIndex(
            model_name='CaseParty',
            index=Index(fields=['person_id', 'case_id']),
        ),
        ops.AddIndex(
            model_name='FollowUp',
            index=Index(fields=['case_id']),
        ),
    ]
