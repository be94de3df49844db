"""The harness: builds a run's players, trains them (the loop), evaluates them
(probes), runs checkpoint probes, computes image features, and produces each run's
files. Imported by ganbench.run; imports the game pieces and ganbench.metrics."""
