# The production image: web (gunicorn), Celery worker and Celery beat share it.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
RUN DEBUG=false SECRET_KEY=build-only-$(python -c "import secrets; print(secrets.token_urlsafe(64))") \
    ALLOWED_HOSTS=build python manage.py collectstatic --noinput
RUN useradd --system --uid 10001 mbs && chown -R mbs /app
USER mbs
EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
