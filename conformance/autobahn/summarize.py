#!/usr/bin/env python3
"""Judge one Autobahn|Testsuite run and write its machine-readable summary.

The expected cases come from the spec itself, resolved by the installed autobahntestsuite
package (same wildcard matching as wstest), so a case that never ran, hung or is missing from
the report counts as failed.  A case passes when its `behavior` is OK, NON-STRICT or
INFORMATIONAL and its `behaviorClose` is not FAILED or UNIMPLEMENTED; everything else fails.

Prints the failed cases, then exactly one final line:
    autobahn ROLE HOST: N passed, M failed
and writes RESULTS_DIR/HOST-ROLE-SET.json.  Exit status: 0 all passed, 1 some failed,
2 the run could not be judged (bad spec, broken wstest install).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

PASS_BEHAVIOR = ("OK", "NON-STRICT", "INFORMATIONAL")
# The closing handshake is judged strictly: only OK and INFORMATIONAL pass. WRONG CODE,
# UNCLEAN and FAILED BY CLIENT mean the close went wrong even where the case's data did not.
FAIL_CLOSE = ("FAILED", "UNIMPLEMENTED", "WRONG CODE", "UNCLEAN", "FAILED BY CLIENT")

# Runs under wstest's own Python 2.7: resolve the spec's case patterns exactly as wstest does
# (CaseSet.parseSpecCases, then the per-agent exclusions checked when a case starts).
RESOLVER = r"""
import json, sys
import autobahntestsuite
from autobahntestsuite import case, caseset
spec = json.load(open(sys.argv[1]))
agent = sys.argv[2]
cs = caseset.CaseSet(case.CaseSetname, case.CaseBasename, case.Cases,
                     case.CaseCategories, case.CaseSubCategories)
ids = cs.parseSpecCases(spec)
unknown = [c for c in ids if c not in cs.CasesById]
if unknown:
    sys.stderr.write("spec names unknown cases: %s\n" % " ".join(unknown))
    sys.exit(3)
epats = cs.parseExcludeAgentCases(spec)
ids = [c for c in ids if not cs.checkAgentCaseExclude(epats, agent, c)]
print(json.dumps({"version": autobahntestsuite.version, "cases": ids}))
"""


def case_key(case_id: str) -> tuple[int, ...]:
    return tuple(int(x) for x in case_id.split("."))


def resolve_cases(wstest: Path, spec: Path, agent: str) -> tuple[str, list[str]]:
    python2 = wstest.parent / "python"
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "PYTHONHOME", "LD_LIBRARY_PATH")
    }
    env["PYTHONWARNINGS"] = "ignore"
    proc = subprocess.run(
        [str(python2), "-c", RESOLVER, str(spec), agent],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(
            f"could not resolve the cases of {spec} with {python2}: {proc.stderr.strip()}"
        )
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    return out["version"], out["cases"]


def load_report(index: Path, agent: str) -> tuple[dict[str, dict], str | None]:
    """The agent's cases from index.json, and a note when the report is missing or incomplete."""
    if not index.is_file():
        return {}, f"no report at {index} (wstest never wrote one)"
    try:
        data = json.loads(index.read_text())
    except ValueError as exc:
        return {}, f"unreadable report {index}: {exc}"
    if agent not in data:
        return (
            {},
            f"agent {agent!r} not in {index} (agents there: {', '.join(sorted(data)) or 'none'})",
        )
    return data[agent], None


def judge(expected: list[str], cases: dict[str, dict]) -> dict:
    counts = {"ok": 0, "non_strict": 0, "informational": 0}
    failed = []
    # passed, but with a close behavior other than OK
    close_notes: dict[str, list[str]] = {}
    for case_id in sorted(expected, key=case_key):
        res = cases.get(case_id)
        if res is None:
            failed.append(
                {"id": case_id, "behavior": "MISSING", "behaviorClose": "MISSING"}
            )
            continue
        behavior, close = res.get("behavior"), res.get("behaviorClose")
        if behavior in PASS_BEHAVIOR and close not in FAIL_CLOSE:
            counts[behavior.lower().replace("-", "_")] += 1
            if close != "OK":
                close_notes.setdefault(str(close), []).append(case_id)
        else:
            failed.append({"id": case_id, "behavior": behavior, "behaviorClose": close})
    return {
        "expected": len(expected),
        "passed": sum(counts.values()),
        **counts,
        "failed": len(failed),
        "failed_cases": failed,
        "close_notes": close_notes,
    }


def main() -> int:
    here = Path(__file__).resolve().parent
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--role", required=True, choices=("client", "server"))
    p.add_argument(
        "--set", dest="set_name", required=True, help="spec set name (quick, full)"
    )
    p.add_argument("--spec", required=True, type=Path, help="the spec wstest ran with")
    p.add_argument(
        "--index", required=True, type=Path, help="reports/{clients,servers}/index.json"
    )
    p.add_argument(
        "--wstest",
        required=True,
        type=Path,
        help="path of wstest (its venv resolves the cases)",
    )
    p.add_argument("--agent", required=True)
    p.add_argument(
        "--host",
        default=os.environ.get("HOST_NAME", "rust"),
        help="default: $HOST_NAME or rust",
    )
    p.add_argument("--results-dir", type=Path, default=here / "results")
    p.add_argument(
        "--duration", type=float, help="seconds the role took (recorded only)"
    )
    args = p.parse_args()

    try:
        version, expected = resolve_cases(args.wstest, args.spec, args.agent)
    except (OSError, RuntimeError, ValueError, subprocess.TimeoutExpired) as exc:
        print(f"autobahn {args.role} {args.host}: cannot judge: {exc}", file=sys.stderr)
        return 2
    if not expected:
        print(
            f"autobahn {args.role} {args.host}: cannot judge: {args.spec} selects no cases",
            file=sys.stderr,
        )
        return 2
    cases, note = load_report(args.index, args.agent)
    summary = judge(expected, cases)

    if note:
        print(f"  note: {note}")
    for close, ids in sorted(summary["close_notes"].items()):
        # INFORMATIONAL is by design in 7.1.6 and 7.13.*: kept in the JSON only
        if close == "INFORMATIONAL":
            continue
        print(f"  note: passed with behaviorClose={close}: {' '.join(ids)}")
    missing = []
    for f in summary["failed_cases"]:
        if f["behavior"] == "MISSING":
            missing.append(f["id"])
        else:
            print(
                f"  failed {f['id']}: behavior={f['behavior']} behaviorClose={f['behaviorClose']}"
            )
    if missing:
        print(
            f"  failed, not in the report (never ran, hung or unreported): {len(missing)} cases"
        )
        print(
            textwrap.fill(
                " ".join(missing),
                width=100,
                initial_indent="    ",
                subsequent_indent="    ",
            )
        )

    record = {
        "host": args.host,
        "role": args.role,
        "set": args.set_name,
        "agent": args.agent,
        **summary,
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "autobahn_version": version,
    }
    if args.duration is not None:
        record["duration_s"] = round(args.duration, 1)
    args.results_dir.mkdir(parents=True, exist_ok=True)
    out = args.results_dir / f"{args.host}-{args.role}-{args.set_name}.json"
    out.write_text(json.dumps(record, indent=2) + "\n")

    print(
        f"autobahn {args.role} {args.host}: {summary['passed']} passed, {summary['failed']} failed"
    )
    return 1 if summary["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
