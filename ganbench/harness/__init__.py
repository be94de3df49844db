"""The harness: builds a run's players from its RunConfig, trains them (the loop),
evaluates them (probes), runs checkpoint probes, computes image features, and records
each run (the recorder: its result and files, for the loop and ganbench.Monitor alike). Imported by ganbench.run; imports the game pieces and ganbench.metrics."""
