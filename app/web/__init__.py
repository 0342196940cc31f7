"""Pages and operational endpoints outside ``/api/v1``."""
