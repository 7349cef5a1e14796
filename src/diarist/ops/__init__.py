"""Operations: health, readiness and internal maintenance tasks."""
