"""What the worker does: render reports and deliver them to third parties."""
