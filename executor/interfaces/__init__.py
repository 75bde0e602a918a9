"""Kept for the control plane's forced command; see executor/interfaces/http/rest.py."""
