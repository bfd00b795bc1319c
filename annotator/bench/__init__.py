"""Benchmarks that print figures: video decode speed, fill accuracy on labels, rendered videos with
exact ground truth, and label-efficiency protocols. Kept apart from the tests."""
