"""Power sources, one module each, behind one interface."""
