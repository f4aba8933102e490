CREATE VIEW sm AS SELECT * FROM schema_migrations;
