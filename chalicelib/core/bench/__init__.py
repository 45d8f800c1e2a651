"""MLBench's domain: benchmark runs, the metrics posted for runs and pods, and the pods."""
