-- guard once: per check, whether it is unhealthy now (fail_after reached) and since when,
-- so transitions (guard.check.failed / recovered) are told once across cron runs; and a
-- check's cursor (a log check's inode and offset: only lines appended since the last run
-- count).
ALTER TABLE calctl_check_state ADD COLUMN unhealthy INTEGER NOT NULL DEFAULT 0;
ALTER TABLE calctl_check_state ADD COLUMN changed_at TEXT;
ALTER TABLE calctl_check_state ADD COLUMN cursor TEXT;
