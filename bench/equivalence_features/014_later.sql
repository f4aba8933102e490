CREATE TABLE later (id int);
-- calctl: ignore-file CAL006
