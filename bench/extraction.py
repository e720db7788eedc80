"""Accuracy of the rule-based extractor on the labelled lead messages.

Usage (from the repository root)::

    .venv/bin/python -m bench.extraction [--data tests/data/lead_messages.jsonl] [--errors]

For every qualification field: how many messages carry a label, how many got a prediction, and

* **precision** - predictions with the labelled value / all predictions of the field (a prediction
  on a message without that label counts as wrong);
* **recall** - labelled messages where the field was found at all (any value);
* **accuracy** - labelled messages where the field was found with the labelled value;
* **F1** - of precision and accuracy (exact-value F1).

A value is correct when: timeline within ±15 % or ±10 days, whichever is larger; budget equal on
both ``min`` and ``max``; strings equal ignoring case; must-haves equal as sets; numbers equal.
Then intent accuracy over every message (``null`` included), accuracy of the three flags (with
precision/recall of their positive class), and micro precision/recall/F1 over all fields.

Two baselines in the same run give the numbers context: *nothing* (no field, no intent, every
flag false) and *expected-field mode* (when we asked about a field, answer that field's most
common labelled value; nothing otherwise).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import date
from pathlib import Path
from typing import Any

from ghl_ai.conversation.extract import extract
from ghl_ai.conversation.model import FIELD_NAMES, Extraction

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "lead_messages.jsonl"
FLAGS = ("handoff", "bot", "vague")

#: (fields {name: value}, intent, {flag: bool}) predicted for one labelled row.
Prediction = tuple[dict[str, Any], str | None, dict[str, bool]]


def load(path: Path | str = DATA) -> list[dict[str, Any]]:
    rows = []
    for number, line in enumerate(Path(path).read_text().splitlines(), 1):
        if line.strip():
            row = json.loads(line)
            row["_line"] = number
            rows.append(row)
    return rows


def same(name: str, predicted: Any, labelled: Any) -> bool:
    """Does a predicted value count as the labelled one?"""
    if predicted is None:
        return False
    if name == "timeline":
        try:
            days = float(predicted)
        except (TypeError, ValueError):
            return False
        return abs(days - labelled) <= max(10.0, 0.15 * labelled)
    if name == "budget":
        return isinstance(predicted, dict) and all(
            predicted.get(k) == labelled.get(k) for k in ("min", "max")
        )
    if name == "must_haves":
        return {str(v).lower() for v in predicted} == {str(v).lower() for v in labelled}
    if isinstance(labelled, str):
        return str(predicted).casefold() == labelled.casefold()
    return predicted == labelled


def field_names(rows: Iterable[dict[str, Any]]) -> tuple[str, ...]:
    """The extractor's fields, then any other field the set labels (a field the extractor does
    not have yet counts as missed, so a set can be written before the extractor learns it)."""
    extra = sorted({n for r in rows for n in r["fields"] if n not in FIELD_NAMES})
    return (*FIELD_NAMES, *extra)


def rules_prediction(row: dict[str, Any]) -> Prediction:
    result: Extraction = extract(
        row["text"],
        today=date.fromisoformat(row["today"]),
        expecting=row.get("expecting"),
        areas=tuple(row.get("areas") or ()),
    )
    fields: dict[str, Any] = {name: answer.value for name, answer in result.answers.items()}
    flags = {
        "handoff": result.handoff_requested,
        "bot": result.asked_if_bot,
        "vague": result.vague,
    }
    return fields, result.intent, flags


def nothing_prediction(_row: dict[str, Any]) -> Prediction:
    return {}, None, dict.fromkeys(FLAGS, False)


def expected_mode_baseline(rows: list[dict[str, Any]]) -> Callable[[dict[str, Any]], Prediction]:
    """Answer the field we asked about with its most common labelled value."""
    modes: dict[str, Any] = {}
    for name in field_names(rows):
        values = [
            json.dumps(r["fields"][name], sort_keys=True) for r in rows if name in r["fields"]
        ]
        if values:
            modes[name] = json.loads(Counter(values).most_common(1)[0][0])

    def predict(row: dict[str, Any]) -> Prediction:
        expecting = row.get("expecting")
        fields = {expecting: modes[expecting]} if expecting in modes else {}
        return fields, None, dict.fromkeys(FLAGS, False)

    return predict


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 3) if whole else None


def _f1(p: float | None, r: float | None) -> float | None:
    if not p or not r:
        return 0.0 if p is not None and r is not None else None
    return round(2 * p * r / (p + r), 3)


def score(
    rows: list[dict[str, Any]], predictions: Iterable[Prediction]
) -> tuple[dict[str, Any], list[str]]:
    """Numbers for one predictor, and a line per mistake."""
    names = field_names(rows)
    per_field: dict[str, Counter[str]] = {n: Counter() for n in names}
    intents: Counter[str] = Counter()
    flags: dict[str, Counter[str]] = {f: Counter() for f in FLAGS}
    errors: list[str] = []
    for row, (fields, intent, predicted_flags) in zip(rows, predictions, strict=True):
        where = f"line {row['_line']:>3} {row['text'][:70]!r}"
        for name in names:
            labelled = row["fields"].get(name)
            predicted = fields.get(name)
            counts = per_field[name]
            counts["labelled"] += labelled is not None
            counts["predicted"] += predicted is not None
            if labelled is not None and predicted is not None:
                counts["found"] += 1
                counts["correct"] += same(name, predicted, labelled)
            if (labelled is not None or predicted is not None) and not (
                labelled is not None and same(name, predicted, labelled)
            ):
                errors.append(f"{where}: {name} predicted {predicted!r}, labelled {labelled!r}")
        intents["total"] += 1
        intents["correct"] += intent == row.get("intent")
        if row.get("intent") is not None:
            intents["labelled"] += 1
            intents["labelled_correct"] += intent == row["intent"]
        if intent != row.get("intent"):
            errors.append(f"{where}: intent predicted {intent!r}, labelled {row.get('intent')!r}")
        for flag in FLAGS:
            truth, guess = bool(row.get(flag)), bool(predicted_flags[flag])
            counts = flags[flag]
            counts["total"] += 1
            counts["correct"] += truth == guess
            counts["true"] += truth
            counts["predicted"] += guess
            counts["tp"] += truth and guess
            if truth != guess:
                errors.append(f"{where}: {flag} predicted {guess}, labelled {truth}")

    fields_out = {}
    for field_name, c in per_field.items():
        precision = _ratio(c["correct"], c["predicted"])
        accuracy = _ratio(c["correct"], c["labelled"])
        fields_out[field_name] = {
            "labelled": c["labelled"],
            "predicted": c["predicted"],
            "correct": c["correct"],
            "precision": precision,
            "recall": _ratio(c["found"], c["labelled"]),
            "accuracy": accuracy,
            "f1": _f1(precision, accuracy),
        }
    total_correct = sum(c["correct"] for c in per_field.values())
    total_pred = sum(c["predicted"] for c in per_field.values())
    total_lab = sum(c["labelled"] for c in per_field.values())
    micro_p = _ratio(total_correct, total_pred) if total_pred else 0.0
    micro_r = _ratio(total_correct, total_lab)
    result = {
        "fields": fields_out,
        "micro": {
            "labelled": total_lab,
            "predicted": total_pred,
            "correct": total_correct,
            "precision": micro_p,
            "recall": micro_r,
            "f1": _f1(micro_p, micro_r),
        },
        "intent": {
            "accuracy": _ratio(intents["correct"], intents["total"]),
            "labelled": intents["labelled"],
            "accuracy_on_labelled": _ratio(intents["labelled_correct"], intents["labelled"]),
        },
        "flags": {
            flag: {
                "accuracy": _ratio(c["correct"], c["total"]),
                "true": c["true"],
                "predicted": c["predicted"],
                "precision": _ratio(c["tp"], c["predicted"]),
                "recall": _ratio(c["tp"], c["true"]),
            }
            for flag, c in flags.items()
        },
    }
    return result, errors


def evaluate(path: Path | str = DATA, *, with_errors: bool = False) -> dict[str, Any]:
    """Score the rule-based extractor and the baselines on a labelled JSONL file."""
    rows = load(path)
    rules, errors = score(rows, (rules_prediction(r) for r in rows))
    nothing, _ = score(rows, (nothing_prediction(r) for r in rows))
    mode = expected_mode_baseline(rows)
    expected_mode, _ = score(rows, (mode(r) for r in rows))
    out: dict[str, Any] = {
        "messages": len(rows),
        "label_counts": {n: rules["fields"][n]["labelled"] for n in field_names(rows)},
        "rules": rules,
        "baselines": {"nothing": nothing, "expected_field_mode": expected_mode},
    }
    # Sets that tag their rows (``language``, ``family``) get the rules' numbers per group.
    for key in ("language", "family"):
        groups = sorted({str(r[key]) for r in rows if r.get(key)})
        if groups:
            out[f"by_{key}"] = {}
            for group in groups:
                part = [r for r in rows if r.get(key) == group]
                numbers, _ = score(part, (rules_prediction(r) for r in part))
                out[f"by_{key}"][group] = {
                    "messages": len(part),
                    "micro": numbers["micro"],
                    "intent_accuracy": numbers["intent"]["accuracy"],
                }
    if with_errors:
        out["errors"] = errors
    return out


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def print_report(report: dict[str, Any], path: Path | str) -> None:
    rules = report["rules"]
    print(f"Extraction accuracy - {report['messages']} labelled messages ({path})")
    print()
    header = (
        f"  {'field':<15}{'labelled':>9}{'predicted':>10}{'correct':>8}{'precision':>10}"
        f"{'recall':>8}{'accuracy':>9}{'F1':>7}"
    )
    print(header)
    print("  " + "-" * (len(header) - 2))
    for name, f in rules["fields"].items():
        print(
            f"  {name:<15}{f['labelled']:>9}{f['predicted']:>10}{f['correct']:>8}"
            f"{_fmt(f['precision']):>10}{_fmt(f['recall']):>8}{_fmt(f['accuracy']):>9}"
            f"{_fmt(f['f1']):>7}"
        )
    m = rules["micro"]
    print("  " + "-" * (len(header) - 2))
    print(
        f"  {'all (micro)':<15}{m['labelled']:>9}{m['predicted']:>10}{m['correct']:>8}"
        f"{_fmt(m['precision']):>10}{'':>8}{_fmt(m['recall']):>9}{_fmt(m['f1']):>7}"
    )
    print("  recall = found with any value; accuracy = found with the labelled value")
    print()
    i = rules["intent"]
    print(
        f"  intent accuracy {_fmt(i['accuracy'])} over all messages;"
        f" {_fmt(i['accuracy_on_labelled'])} on the {i['labelled']} with an intent"
    )
    for flag, f in rules["flags"].items():
        print(
            f"  {flag:<8} accuracy {_fmt(f['accuracy'])}  (true {f['true']}, predicted"
            f" {f['predicted']}, precision {_fmt(f['precision'])}, recall {_fmt(f['recall'])})"
        )
    print()
    for key in ("language", "family"):
        if f"by_{key}" not in report:
            continue
        print(f"  rules by {key}:")
        for group, g in report[f"by_{key}"].items():
            m = g["micro"]
            print(
                f"    {group:<14}{g['messages']:>4} messages  micro P {_fmt(m['precision'])}"
                f"  R {_fmt(m['recall'])}  F1 {_fmt(m['f1'])}  intent {_fmt(g['intent_accuracy'])}"
            )
        print()
    print("  same run, compared:")
    header = (
        f"  {'predictor':<30}{'micro P':>8}{'micro R':>8}{'micro F1':>9}{'intent':>8}"
        f"{'handoff':>8}{'bot':>7}{'vague':>7}"
    )
    print(header)
    print("  " + "-" * (len(header) - 2))
    rows = [
        ("rules (extract.py)", rules),
        ("baseline: nothing", report["baselines"]["nothing"]),
        ("baseline: expected-field mode", report["baselines"]["expected_field_mode"]),
    ]
    for label, r in rows:
        m, fl = r["micro"], r["flags"]
        print(
            f"  {label:<30}{_fmt(m['precision']):>8}{_fmt(m['recall']):>8}{_fmt(m['f1']):>9}"
            f"{_fmt(r['intent']['accuracy']):>8}{_fmt(fl['handoff']['accuracy']):>8}"
            f"{_fmt(fl['bot']['accuracy']):>7}{_fmt(fl['vague']['accuracy']):>7}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.extraction", description=__doc__)
    parser.add_argument("--data", type=Path, default=DATA, help="labelled JSONL file")
    parser.add_argument("--errors", action="store_true", help="also list every mistake")
    args = parser.parse_args(argv)
    report = evaluate(args.data, with_errors=args.errors)
    try:
        shown = args.data.resolve().relative_to(ROOT)
    except ValueError:
        shown = args.data
    print_report(report, shown)
    if args.errors:
        print()
        print(f"  mistakes ({len(report['errors'])}):")
        for line in report["errors"]:
            print(f"    {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
