"""Filing a request: its service, its statements, and the rules a filing must satisfy."""
