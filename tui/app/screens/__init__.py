"""Modal screens: key rotation, help, secret prompt, add collection."""
