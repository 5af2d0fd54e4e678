"""The event pipeline after commit: the plugin host, the board broadcast, the broker
queue probe, Celery sending and the evidence tasks. Beside the rules, above the services.
"""
