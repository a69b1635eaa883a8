"""Four-eyes approval of the two sensitive acts: a period close and a payment reversal."""
