"""Articles: their routes (controller), Structs (schemas), SQL (repository) and fast deep offsets (deep_offsets)."""
