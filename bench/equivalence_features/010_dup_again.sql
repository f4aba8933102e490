-- calctl: no-transaction
VACUUM items;
