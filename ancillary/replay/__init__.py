"""A year at the seed court replayed through the product: ``ancillary replay --out DIR``."""
