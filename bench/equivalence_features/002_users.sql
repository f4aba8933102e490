CREATE TABLE {{schema}}.users (id bigint PRIMARY KEY,
  account_id bigint REFERENCES accounts (id));
