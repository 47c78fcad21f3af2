"""`govlake scrub [--json]`: replace personal information in UTF-8 lines from stdin.

Each input line becomes one output line with every detected entity replaced by a typed
placeholder (`<PHONE>`, `<ID_NUMBER>`, ...). With `--json`, one JSON object per input line:
`{"text": <scrubbed line>, "entities": [{"type", "start", "end", "score"}]}`, offsets being
character offsets into the input line. Analysis runs in Presidio with govlake's recognizers,
offline. This interface is stable: other tools depend on it.
"""
from __future__ import annotations

import io
import json
import sys

from govlake.cli import options
from govlake.core.errors import InputError


def register(sub) -> None:
    p = sub.add_parser("scrub", help="replace personal information in stdin lines with typed placeholders")
    options.add_json(p, help="one JSON object per line with the entities found")
    p.set_defaults(func=run)


def run(args) -> int:
    from govlake.context import Context

    ctx = Context()
    stdin = io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="strict", newline="")
    out = sys.stdout
    n = 0
    try:
        for line in stdin:
            n += 1
            text = line[:-2] if line.endswith("\r\n") else line[:-1] if line.endswith("\n") else line
            scrubbed, entities = ctx.scrub(text)
            if args.json:
                out.write(json.dumps({"text": scrubbed, "entities": [e.as_dict() for e in entities]}, ensure_ascii=False) + "\n")
            else:
                out.write(scrubbed + "\n")
    except UnicodeDecodeError as exc:
        raise InputError(f"stdin line {n + 1} is not valid UTF-8 (byte offset {exc.start} in its chunk); "
                         "convert the input first, e.g. `iconv -f GBK -t UTF-8`") from exc
    out.flush()
    return 0
