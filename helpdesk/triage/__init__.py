"""Triage policy without a database or Flask: the policy files, routing, SLA arithmetic, explanations."""
