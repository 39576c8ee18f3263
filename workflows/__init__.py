"""Temporal workflows: orchestration only, deterministic (DESIGN.md, Temporal specifics)."""

from workflows.authorization import AuthorizationWorkflow

WORKFLOWS = [AuthorizationWorkflow]

__all__ = ["WORKFLOWS", "AuthorizationWorkflow"]
