CREATE SCHEMA app;
CREATE TABLE app.accounts (id bigserial PRIMARY KEY, owner text);
