CREATE TABLE broken (id int,, x);
CREATE TABLE fine (id int);
