"""The wiring at the top: the ASGI app and GraphQL endpoint, the citizens' door, start-up
(runtime), the Celery worker, the CLI, backups and the demo. Nothing imports it but itself.
"""
