"""Operations: the scheduler's heartbeat and sweep ledger, health and readiness."""
