"""logicmodel package."""
