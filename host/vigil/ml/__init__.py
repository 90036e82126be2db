"""Models: architectures, training and evaluation."""
