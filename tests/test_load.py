"""Load: many gradio_client sessions against ``python -m ui`` while its index rebuilds.

The runner is :mod:`bench.load` (it prints latency and memory figures; nothing here asserts
a time). The small run is part of ``make test``; the 50-session run is ``reliability``.
"""
from __future__ import annotations

import pytest

from bench import load


def run_load(tmp_path, *argv: str) -> dict:
    args = load.parser().parse_args([*argv, "--workdir", str(tmp_path / "load")])
    args.concurrency = args.concurrency or args.sessions
    results = load.run(args)
    print(load.report(results))
    return results


def _cited(**changes) -> dict:
    answer = {"refused": False, "text": "Eight personnel were injured [1].",
              "citations": [{"number": 1, "verified": True, "quote": "eight U.S. personnel"}]}
    answer.update(changes)
    return answer


def test_the_answer_check_catches_every_kind_of_uncited_answer():
    assert load.problems(_cited(), "eight") == []
    assert load.problems(_cited(refused=True), None) == ["refused"]
    assert "no citation" in load.problems(_cited(citations=[], text="Eight."), None)
    assert load.problems(_cited(text="Eight personnel were injured."), None) == ["no [n] marker"]
    unverified = [{"number": 1, "verified": False, "quote": "x"}]
    assert load.problems(_cited(citations=unverified), None) == ["unverified quote"]
    assert load.problems(_cited(), "nine") == ["lost the fact 'nine'"]


def test_sessions_during_a_rebuild_get_cited_answers(tmp_path):
    r = run_load(tmp_path, "--sessions", "5", "--turns", "2", "--docs", "1", "--doc-chars", "2500",
                 "--add-per-rebuild", "1", "--max-questions", "8", "--timeout", "240")
    assert r["pool"] >= 4  # the quiet pass found questions the index answers with citations
    assert r["questions"] == 10 and r["errors"] == 0, r["error_samples"]
    assert r["uncited"] == 0, r["uncited_samples"]
    assert r["rebuilds"] >= 1 and r["rebuild_errors"] == 0, r["error_samples"]
    assert r["documents_added"] >= 1  # the rebuild really indexed something new
    assert r["ui_alive_after"] and r["ui_peak_rss_mb"] > 0


@pytest.mark.reliability
@pytest.mark.timeout(3600)  # the load is bounded by --timeout 900; start-up and the quiet pass come first
def test_fifty_sessions_during_rebuilds(tmp_path):
    r = run_load(tmp_path, "--sessions", "50", "--turns", "4", "--timeout", "900")
    assert r["questions"] == 200 and r["errors"] == 0, r["error_samples"]
    assert r["uncited"] == 0, r["uncited_samples"]
    assert r["lost_fact"] == 0, r["lost_fact_samples"]
    assert r["rebuilds"] >= 1 and r["rebuild_errors"] == 0, r["error_samples"]
    assert r["answered_during_rebuild"] > 0  # the load really overlapped a rebuild
    assert r["ui_alive_after"]
