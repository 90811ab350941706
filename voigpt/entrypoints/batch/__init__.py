"""``voigpt batch``: an OpenAI Batch JSONL file of chat completions, run resumably.

- ``parsing``: one input line, checked (custom_id, method, url, body, parameters).
- ``reading``: the input file streamed: the whole-file check, then the requests.
- ``journal``: OUTPUT, append-only: done ids, torn-tail repair, one write per line.
- ``lines``: the output and error lines, in OpenAI's Batch output format.
- ``pacing``: requests in flight, starts per second, and the whole run's 429 slowdown;
  ``watch``: every 429 the client sees (retried or not) reaches the pacer.
- ``progress``: the counts, the bar or periodic one-line summaries.
- ``plan`` and ``runner``: what is left to do, and doing it on an ``AsyncClient``;
  ``summary``: how it ended (the last line, the exit code).

The public facade is ``voigpt.batch`` (``run``, ``arun``); the command is
``voigpt.entrypoints.cli.batch``.
"""
