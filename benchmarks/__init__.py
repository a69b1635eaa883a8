"""The performance benchmark (`make bench`): a synthetic portfolio closed at scale, against its limits."""
