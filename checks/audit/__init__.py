"""The admin audit: read the tenant's configuration through Graph (and pasted PowerShell) and hold it to the guide."""
