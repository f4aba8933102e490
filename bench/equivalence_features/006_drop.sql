ALTER TABLE app.accounts DROP COLUMN owner;
-- calctl: ignore CAL001
DROP TABLE IF EXISTS legacy;
