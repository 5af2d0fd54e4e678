"""The domain rules every service applies: the actor, jurisdiction (who sees what),
audit, working days and places. Above the models, below the services.
"""
