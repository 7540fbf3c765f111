"""Filing a request: its service, how its rows are written, its statements, and the rules a
filing must satisfy."""
