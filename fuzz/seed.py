#!/usr/bin/env python3
"""Writes the seed corpus of every fuzz target from the published test
vectors (tests/vectors/lintas-v1.json, lintas-v1-log.json, lintas-v1-evidence.json,
lintas-v1-offline.json) and the notice templates
(examples/notices/*.json). Run from the repository root or from fuzz/."""

import json
import pathlib

root = pathlib.Path(__file__).resolve().parent.parent
vectors = json.loads((root / "tests/vectors/lintas-v1.json").read_text())
corpus = root / "fuzz/corpus"


def put(target, name, data):
    d = corpus / target
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data)


for n in vectors["notices"]:
    put("notice_body", n["name"], bytes.fromhex(n["body_hex"]))
    put("envelope", n["name"], bytes.fromhex(n["signed_notice_hex"]))
for r in vectors["rejected"]:
    put("envelope", "rejected_" + r["name"], bytes.fromhex(r["signed_notice_hex"]))
put("roster", "roster_v1", bytes.fromhex(vectors["roster"]["signed_roster_hex"]))
for t in sorted((root / "examples/notices").glob("*.json")):
    put("notice_json", t.stem, t.read_bytes())
# Receipts: the vectors carry none; the receipt target starts from an
# envelope's bytes, which share its field layout.
for n in vectors["notices"][:2]:
    put("receipt", n["name"], bytes.fromhex(n["signed_notice_hex"]))
log = json.loads((root / "tests/vectors/lintas-v1-log.json").read_text())
put("log_checkpoint", "checkpoint", bytes.fromhex(log["checkpoint"]["signed_checkpoint_hex"]))
put("log_checkpoint", "cosignature", bytes.fromhex(log["cosignature"]["signed_cosignature_hex"]))
put("log_checkpoint", "inclusion", bytes.fromhex(log["inclusion_proof"]["log_inclusion_proof_hex"]))
for i, e in enumerate(log["fork_evidence"]):
    put("log_checkpoint", f"fork{i}", bytes.fromhex(e["log_fork_evidence_hex"]))
evidence = json.loads((root / "tests/vectors/lintas-v1-evidence.json").read_text())
put("evidence_bundle", "bundle", bytes.fromhex(evidence["bundle_hex"]))
for i, t in enumerate(evidence["tampered"]):
    put("evidence_bundle", f"tampered{i}", bytes.fromhex(t["bundle_hex"]))
offline = json.loads((root / "tests/vectors/lintas-v1-offline.json").read_text())
for which in ("bundle", "reply"):
    put("offline_bundle", which, bytes.fromhex(offline[which]["signed_offline_bundle_hex"]))
print(f"seed corpus written under {corpus}")
