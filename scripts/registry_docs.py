"""Write the tables of registered models, constraints, solvers, inner optimisers and scores
into docs/architecture.md.

Usage::

    python scripts/registry_docs.py          # rewrite the tables
    python scripts/registry_docs.py --check  # exit 1 if the doc is out of date

The tables sit between ``<!-- registry:NAME -->`` and ``<!-- /registry:NAME -->``
markers and are built from the registries themselves, so the docs list exactly what
``DagLearner``, config files and the command line accept.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "architecture.md"


def tables() -> dict[str, str]:
    """Markdown table of each registry, by marker name."""
    from dagforge.constraints.registry import CONSTRAINT_SPECS
    from dagforge.inner_optimizers import INNER_OPTIMIZERS
    from dagforge.models.registry import get_model, model_names
    from dagforge.search.scores import SCORES
    from dagforge.solvers import SOLVERS

    models = ["| model | learner | description |", "|---|---|---|"]
    models += [f"| `{m}` | {get_model(m).learner} | {get_model(m).description} |"
               for m in model_names()]
    constraints = ["| constraint | barrier | description |", "|---|---|---|"]
    constraints += [f"| `{name}` | {'yes' if spec.barrier else 'no'} | {spec.description} |"
                    for name, spec in CONSTRAINT_SPECS.items()]
    solvers = ["| solver | description |", "|---|---|"]
    solvers += [f"| `{name}` | {spec.description} |" for name, spec in SOLVERS.items()]
    inner = ["| inner optimiser | description |", "|---|---|"]
    inner += [f"| `{name}` | {spec.description} |" for name, spec in INNER_OPTIMIZERS.items()]
    scores = ["| score | noise models | description |", "|---|---|---|"]
    scores += [f"| `{name}` | {', '.join(spec.noise_models)} | {spec.description} |"
               for name, spec in SCORES.items()]
    return {"models": "\n".join(models), "constraints": "\n".join(constraints),
            "solvers": "\n".join(solvers), "inner": "\n".join(inner),
            "scores": "\n".join(scores)}


def rewrite(text: str) -> str:
    """``text`` with every registry table replaced by the current one."""
    for name, table in tables().items():
        pattern = re.compile(rf"(<!-- registry:{name} -->\n).*?(<!-- /registry:{name} -->)",
                             re.S)
        if not pattern.search(text):
            raise SystemExit(f"{DOC}: no <!-- registry:{name} --> markers")
        text = pattern.sub(lambda m, t=table: m.group(1) + t + "\n" + m.group(2), text)
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only check, write nothing")
    args = parser.parse_args(argv)
    old = DOC.read_text(encoding="utf-8")
    new = rewrite(old)
    if args.check:
        if new != old:
            print(f"{DOC} is out of date: run python scripts/registry_docs.py")
            return 1
        return 0
    DOC.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
