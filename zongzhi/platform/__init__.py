"""The core: settings, models, services, events, auth and the app."""
