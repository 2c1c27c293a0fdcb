"""One chat: its conversation, turn timers and the session that runs turns."""
