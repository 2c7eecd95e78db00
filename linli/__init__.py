"""Linli 邻里: party-building-led community governance."""
