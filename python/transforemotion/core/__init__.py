"""The basics every layer uses: our errors, messages spelled for the caller, argument checks, safe file writes,
one ordered parallel map (``core.parallel``)."""
