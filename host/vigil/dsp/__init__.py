"""Integer-exact Python twins of the firmware's fixed-point signal processing."""
