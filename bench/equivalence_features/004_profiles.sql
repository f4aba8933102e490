CREATE TABLE app.profiles (user_id uuid REFERENCES auth.users (id), owner text DEFAULT '${owner}');
