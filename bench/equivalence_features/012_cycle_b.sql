CREATE TABLE cb (id int PRIMARY KEY, a int REFERENCES ca (id));
