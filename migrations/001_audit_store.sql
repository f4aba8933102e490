-- calctl's audit store. Portable SQL: runs unchanged on SQLite and PostgreSQL.
-- Times are ISO-8601 UTC text (sortable on both); booleans are 0/1 integers;
-- ids are text made by calctl (time-ordered), so no engine-specific sequences.

CREATE TABLE guardian_bug_reports (
  report_id TEXT PRIMARY KEY,
  service TEXT NOT NULL DEFAULT '',
  error_message TEXT NOT NULL,
  file_path TEXT,
  line_number INTEGER,
  snippet TEXT,
  stack_trace TEXT,
  diagnosis TEXT,
  suggested_fix TEXT,
  raw_response TEXT,
  status TEXT NOT NULL DEFAULT 'reported',
  created_at TEXT NOT NULL,
  fingerprint TEXT,
  document TEXT
);
CREATE INDEX idx_guardian_reports_fingerprint ON guardian_bug_reports (fingerprint);
CREATE INDEX idx_guardian_reports_created ON guardian_bug_reports (created_at);

CREATE TABLE guardian_patch_applications (
  patch_id TEXT PRIMARY KEY,
  file_path TEXT NOT NULL,
  line_number INTEGER,
  description TEXT,
  old_code TEXT,
  new_code TEXT,
  snapshot_id TEXT,
  rolled_back INTEGER NOT NULL DEFAULT 0,
  success INTEGER NOT NULL,
  verification_error TEXT,
  applied_at TEXT NOT NULL,
  applied_by TEXT NOT NULL DEFAULT 'calctl',
  source TEXT,
  report_id TEXT,
  status TEXT NOT NULL DEFAULT 'applied',
  verified_at TEXT,
  verify_output TEXT,
  document TEXT
);
CREATE INDEX idx_guardian_patches_applied ON guardian_patch_applications (applied_at);
CREATE INDEX idx_guardian_patches_report ON guardian_patch_applications (report_id);

CREATE TABLE calctl_events (
  id TEXT PRIMARY KEY,
  ts TEXT NOT NULL,
  type TEXT NOT NULL,
  subject TEXT NOT NULL DEFAULT '',
  data TEXT NOT NULL DEFAULT '{}',
  pid INTEGER
);
CREATE INDEX idx_calctl_events_ts ON calctl_events (ts);
CREATE INDEX idx_calctl_events_type ON calctl_events (type);

CREATE TABLE calctl_check_state (
  check_name TEXT PRIMARY KEY,
  consecutive_failures INTEGER NOT NULL DEFAULT 0,
  last_status TEXT,
  last_error TEXT,
  last_run_at TEXT,
  last_ok_at TEXT
);

CREATE TABLE calctl_check_results (
  id TEXT PRIMARY KEY,
  check_name TEXT NOT NULL,
  status TEXT NOT NULL,
  duration_ms INTEGER,
  error TEXT,
  finding TEXT,
  ran_at TEXT NOT NULL
);
CREATE INDEX idx_calctl_check_results_name ON calctl_check_results (check_name, ran_at);

CREATE TABLE calctl_heal_runs (
  id TEXT PRIMARY KEY,
  check_name TEXT,
  fingerprint TEXT,
  report_id TEXT,
  patch_id TEXT,
  provider TEXT,
  status TEXT NOT NULL,
  started_at TEXT NOT NULL,
  finished_at TEXT,
  detail TEXT
);
CREATE INDEX idx_calctl_heal_runs_started ON calctl_heal_runs (started_at);

CREATE TABLE calctl_fix_memory (
  fingerprint TEXT PRIMARY KEY,
  patch TEXT NOT NULL,
  description TEXT,
  successes INTEGER NOT NULL DEFAULT 1,
  failures INTEGER NOT NULL DEFAULT 0,
  learned_at TEXT NOT NULL,
  last_used_at TEXT
);
