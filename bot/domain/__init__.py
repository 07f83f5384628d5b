"""What several features share: finding the prospect a rep means, and the calls still on
their way to memory that every history must show."""
