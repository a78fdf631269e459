"""`cog.server`: only what models import from it (the exceptions)."""
