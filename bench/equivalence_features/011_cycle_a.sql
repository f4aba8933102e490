CREATE TABLE ca (id int PRIMARY KEY, b int REFERENCES cb (id));
