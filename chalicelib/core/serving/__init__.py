"""The ClearML serving registry: containers, their status-report samples, and the stats and charts read from them."""
