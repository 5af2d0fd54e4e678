"""Operating zongzhi: request context, structured logs, Prometheus metrics, health checks, tracing.

Each module is small and imports nothing heavier than it needs, so the services and the worker can
count and log without pulling in the web app. See the README's "Operating zongzhi" section.
"""
