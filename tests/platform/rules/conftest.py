from hypothesis import HealthCheck, settings

settings.register_profile(
    "rules",
    max_examples=2000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
