"""WSGI entry point for gunicorn (``salus serve``)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salus.settings")
application = get_wsgi_application()
