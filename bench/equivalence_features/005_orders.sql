CREATE TABLE orders (id int PRIMARY KEY, item int REFERENCES items (id));
