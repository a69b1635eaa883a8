"""Trusts: SPV trusts, their loan pools, security classes (tranches) and the bondholder register."""
