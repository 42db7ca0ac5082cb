-- The broken variant (SHOP_VARIANT=broken): a migration renames a column
-- the API still writes and reads. The migration itself is fine, and so is
-- every other component; only the interface between the API and the
-- database is broken, and that is the edge the strategies should name.
ALTER TABLE orders RENAME COLUMN total_cents TO amount_cents;
