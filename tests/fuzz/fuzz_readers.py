"""Coverage-guided fuzzing of every reader with atheris (libFuzzer for Python).

    pip install atheris
    python tests/fuzz/fuzz_readers.py -max_total_time=600 -rss_limit_mb=2048 \
        -timeout=10 tests/fuzz/corpus/ tests/data/broken/*/

The first byte of an input picks the reader (event file, CSV, JSON lines,
trainer_state.json), the rest is the file's content.  A reader may return
data or raise :class:`parsers.ParseError`; anything else is a finding (the
input that caused it is written to ``crash-*``).  libFuzzer's ``-timeout``
catches hangs and ``-rss_limit_mb`` runaway memory (a length claiming
gigabytes must not be allocated).  Seeds: any files; a seed's first byte
picks its reader, so the corpus directory holds valid files of each kind
prefixed with their selector (``python tests/fuzz/fuzz_readers.py --seed``
writes them).
"""

from __future__ import annotations

import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.abspath(os.path.join(HERE, "..", "..")))

NAMES = ["events.out.tfevents.1700000000.fuzz", "metrics.csv", "metrics.jsonl",
         "trainer_state.json"]


def _readers():
    from parsers.csvlog import read_csv
    from parsers.hf_trainer import read_trainer_state
    from parsers.jsonl import read_jsonl
    from parsers.tfevents import read_event_file

    return [read_event_file, read_csv, read_jsonl, read_trainer_state]


def write_seeds(out: str) -> None:
    """Valid files of each kind from tests/data/broken/good and sample_logs."""
    root = os.path.abspath(os.path.join(HERE, "..", ".."))
    sources = {0: os.path.join(root, "tests", "data", "broken", "good",
                               "events.out.tfevents.1700000000.corpus"),
               1: os.path.join(root, "sample_logs", "keras", "head_on_minilm", "training.log"),
               2: os.path.join(root, "sample_logs", "jsonl", "corrupted_batch",
                               "metrics.jsonl"),
               3: os.path.join(root, "sample_logs", "hf", "too_little_data",
                               "trainer_state.json")}
    os.makedirs(out, exist_ok=True)
    for kind, path in sources.items():
        with open(path, "rb") as fh:
            data = fh.read()[:20000]
        with open(os.path.join(out, f"seed_{kind}"), "wb") as fh:
            fh.write(bytes([kind]) + data)


def main() -> None:
    if "--seed" in sys.argv:
        write_seeds(os.path.join(HERE, "corpus"))
        return
    import atheris

    with atheris.instrument_imports():
        import parsers  # noqa: F401
        from parsers.errors import ParseError
        readers = _readers()
    folder = tempfile.mkdtemp(prefix="ld-fuzz-", dir="/dev/shm" if os.path.isdir(
        "/dev/shm") else None)

    def one_input(data: bytes) -> None:
        if not data:
            return
        kind = data[0] % len(readers)
        path = os.path.join(folder, NAMES[kind])
        with open(path, "wb") as fh:
            fh.write(data[1:])
        try:
            readers[kind](path)
        except ParseError:
            pass

    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
