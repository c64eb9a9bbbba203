"""The three oracles torch is held to: finite differences, JAX, and torch's own forward mode."""
