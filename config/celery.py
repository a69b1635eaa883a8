"""The Celery app: Redis broker when CELERY_BROKER_URL is set, eager otherwise.

Its configuration lives in Django settings under the CELERY_ prefix; tasks are
found in each app's tasks module.
"""
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("mbs")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
