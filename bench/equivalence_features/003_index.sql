CREATE INDEX CONCURRENTLY users_account_idx ON app.users (account_id);
