"""Page facts parsed once and kept: the SQLite cache, its codec, the fact store."""
