"""The names of a tsbench-tune folder's records, in one place and without imports:
tsbench-tune writes them; the report, the forecast and the output guard read them."""

#: The settings and finished stages of a tuning folder (its mark: a folder holding it is one).
STATE_FILE = "tune.json"
#: A finished tuning run's summary (its choices and their test scores), and its Markdown.
SUMMARY_FILE, REPORT_FILE = "report.json", "report.md"
