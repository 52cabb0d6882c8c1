"""Tickets: self-help first, then a request routed to local IT, the state compact office or the national office."""
