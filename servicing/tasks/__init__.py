"""Servicing's Celery tasks; each module of this package registers its own.

Celery's autodiscovery imports `servicing.tasks`; importing every submodule
here registers them all.
"""
import importlib
import pkgutil

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
