"""The ticket pages: the `tickets` blueprint, its views and forms (the Flask side of tickets)."""
