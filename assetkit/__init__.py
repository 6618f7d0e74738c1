"""assetkit."""
