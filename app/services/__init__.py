"""Use cases: one public function each. Services never read Flask request globals."""
