"""The sentence-embedding model: where it lives, how it is fetched at install time, how it is run."""
