"""Users: their routes (controller), Structs (schemas), SQL (repository) and password verification (verify)."""
