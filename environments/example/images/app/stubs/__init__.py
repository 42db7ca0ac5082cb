"""Stubs: stand-ins that answer under a service's name.

payments and mailer stand for third-party services (a payment provider, an
e-mail service) and are the only form those services take in the example;
api and worker stand for the shop's own services until a strategy
integrates the real ones. Each keeps its state in memory and lets the
suites read it back (GET /charges, GET /messages).
"""
