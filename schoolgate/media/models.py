"""Media library models: none yet (the library's tables come with the upload and tagging work)."""
