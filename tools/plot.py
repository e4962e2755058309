#!/usr/bin/python3
"""Draws an optimizer race: `adaline race ... --metrics-out race.jsonl`.

  tools/plot.py race.jsonl --out race.png

Left: each optimizer's progressive loss (mean so far) against examples seen.
Right: each watched feature's weight under each optimizer. Needs Debian's
python3-matplotlib.
"""
import argparse
import collections
import json
import sys


def read_race(path):
    """{optimizer: [standing, ...]} from the race's JSON lines, in order."""
    standings = collections.OrderedDict()
    with open(path) as lines:
        for number, line in enumerate(lines, 1):
            line = line.strip()
            if not line:
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as error:
                sys.exit(f"plot.py: {path}:{number}: not JSON ({error})")
            if row.get("event") != "race":
                continue
            standings.setdefault(row["optimizer"], []).append(row)
    if not standings:
        sys.exit(f"plot.py: {path} holds no race rows "
                 "(write them with: adaline race ... --metrics-out FILE)")
    return standings


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("race", help="JSON lines of adaline race --metrics-out")
    parser.add_argument("--out", default="race.png", help="image to write")
    args = parser.parse_args()
    standings = read_race(args.race)
    watched = list(next(iter(standings.values()))[-1]["weights"].keys())

    import matplotlib
    matplotlib.use("Agg")  # no display needed
    import matplotlib.pyplot as plt

    panels = 1 + len(watched)
    figure, axes = plt.subplots(1, panels, figsize=(6 * panels, 4.5),
                                squeeze=False)
    loss_axis = axes[0][0]
    for optimizer, rows in standings.items():
        examples = [row["examples"] for row in rows]
        loss_axis.plot(examples, [row["average_loss"] for row in rows],
                       label=optimizer)
    # The first examples' losses swing widely; the scale follows the rest.
    settled = [row["average_loss"] for rows in standings.values()
               for row in rows if row["examples"] >= 100]
    if settled:
        spread = max(settled) - min(settled)
        loss_axis.set_ylim(min(settled) - 0.05 * spread,
                           max(settled) + 0.05 * spread)
    loss_axis.set_xscale("log")
    loss_axis.set_xlabel("examples seen")
    loss_axis.set_ylabel("progressive loss (mean so far)")
    loss_axis.set_title("loss: every example scored before it is learned")
    loss_axis.legend()
    for index, feature in enumerate(watched, 1):
        axis = axes[0][index]
        for optimizer, rows in standings.items():
            axis.plot([row["examples"] for row in rows],
                      [row["weights"].get(feature) for row in rows],
                      label=optimizer)
        axis.set_xscale("log")
        axis.set_xlabel("examples seen")
        axis.set_ylabel("weight")
        axis.set_title(f"weight of {feature}")
        axis.legend()
    figure.tight_layout()
    figure.savefig(args.out, dpi=90)
    print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
