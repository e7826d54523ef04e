# Gunicorn settings, mounted read-only at /etc/shop/gunicorn.conf.py (config_files.gunicorn.conf.py.source).
bind = "0.0.0.0:8000"
workers = 2
worker_tmp_dir = "/tmp"
accesslog = "-"
graceful_timeout = 20
