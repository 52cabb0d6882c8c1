"""Escalation: moving a ticket to another tier, and the sweeps that escalate and close on time."""
