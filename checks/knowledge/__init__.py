"""What server replies and Entra ID errors mean: the catalog, its data, and findings built from them."""
