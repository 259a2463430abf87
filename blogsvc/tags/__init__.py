"""Tags: the names articles carry, and how many live articles carry each."""
