"""Reading results folders: tables, statistics, compare, check, report. Imports no
torch: it reads summary.csv, the run folders and the metric catalogue only."""
