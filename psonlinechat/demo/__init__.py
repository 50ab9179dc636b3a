"""The embedded demo shop: SQLite, a storefront and a back office, mail to an outbox folder."""
