from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0010_work_surface')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='Outbox',
            index=Index(fields=['event_id', 'processed_at']),
        ),
    ]
