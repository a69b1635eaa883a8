"""Views: thin, scoped, and calling the services for every write."""
