"""Settings of a relay setup: the validated config, its fields, loading from values and files, profiles, providers."""
