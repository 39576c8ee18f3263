"""Talking to cases from outside a workflow: the typed case client and its errors.

Above ``workflows`` (it calls ``AuthorizationWorkflow``'s methods) and ``infra``;
below everything that talks to cases: ``api``, ``commands``, ``benchmarks``, tests.
"""
