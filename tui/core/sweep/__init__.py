"""`ollamon bench`: a sweep of models through the chat session, and its comparison table."""
