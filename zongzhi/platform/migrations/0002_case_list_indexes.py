from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0001_initial')]

    initial = False

    operations = [
        ops.RemoveIndex(
            model_name='Case',
            name=None,
            fields=['center_path', 'created_at'],
        ),
        ops.AddIndex(
            model_name='Case',
            index=Index(fields=['center_path', 'created_at', 'id', 'status', 'category', 'channel', 'kind', 'risk', 'grid_id', 'created_by_id', 'resolve_by']),
        ),
        ops.AddIndex(
            model_name='Case',
            index=Index(fields=['created_at', 'id', 'center_path', 'status', 'category', 'channel', 'kind', 'risk', 'grid_id', 'created_by_id', 'resolve_by']),
        ),
    ]
