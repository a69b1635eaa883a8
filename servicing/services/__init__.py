"""Servicing's services: the only code that records servicing facts."""
