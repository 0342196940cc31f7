"""Pure helpers with no app state."""
