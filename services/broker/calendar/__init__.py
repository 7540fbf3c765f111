"""Working days (工作日): which days count for an SLA, and the deadlines they give.

`days.py` says whether a day is a working day (the State Council's yearly notice, as packaged by
`chinese-calendar`, plus the years an operator adds in `HOLIDAYS_FILE`); `deadlines.py` turns a
start and a number of working days into a deadline and measures working time; both are pure.
`holidays_file.py` reads and validates the operator's file; `installed.py` holds the calendar
the process started with, and `metrics.py` reports the last year it knows.
"""
