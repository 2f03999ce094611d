"""Settings split by environment: base (shared), local (make run), test, production.

Every value that differs between machines comes from the environment, with a working default.
"""
