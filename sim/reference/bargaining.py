"""Closed-form bargaining checks, run through the whole engine: Rubinstein (1982) and its finite,
continuous-time and outside-option forms, breakdown risk and the Nash limit (Binmore, Rubinstein &
Wolinsky 1986), n-party unanimity (Baron & Ferejohn 1989), inside options (Muthoo 1999, ch. 5), a status
quo one party prefers to everything the other accepts, and the imitative tactics' defining properties
(Faratin, Sierra & Jennings 1998).

**Inside options.** While talks go on each party gets b_i a round (its utility of the status quo); an
agreement gives its utility for good. With no binding outside option the proposer's payoff is
``b_1 + mu_1 (pi - b_1 - b_2)`` with ``mu_1 = (1 - d_2) / (1 - d_1 d_2)``, where pi is the utility both
sum to on the frontier; an outside option w_2 above what player 2 would get binds: player 2 gets
exactly w_2 when player 1 proposes (the outside option principle with inside options; Muthoo 1999,
ch. 5). The engine's pie here has two issues: party one's share (salience
w for both, ideal 1 and 0) and whether the deal is sealed (salience 1 - w, both want it; the status quo
is unsealed). With linear utilities, u_1 = (1 - w) + w x at a sealed deal, pi = 2 - w, and the status
quo (share s, unsealed) gives b_1 = w s, b_2 = w (1 - s).
"""

from __future__ import annotations

import math

import numpy as np

from sim.engine.equilibrium import division_shares
from sim.engine.model import simulate
from sim.engine.tactics import OfferHistory, random_tft, relative_tft
from sim.reference.checks import Check, checks, decimals
from sim.scenario.schema import Scenario


def pie_scenario(patience, outside=(0.0, 0.0), breakdown=0.0, horizon=10, infinite=True, proposer="alternating",
                 status_quo: float | None = None, sealed_weight: float = 0.5) -> Scenario:  # fmt: skip
    """Two parties dividing a pie of 1: the issue is party one's share; linear utilities. With a
    ``status_quo`` share, a second issue says whether the deal is sealed (see the module's notes)."""
    strategy = {"kind": "equilibrium", "horizon": "infinite" if infinite else "finite"}
    if not infinite:
        strategy["deadline"] = horizon
    issues = {"share": {"label": "Party one's share", "unit": "share", "range": [0.0, 1.0]}}
    sealed = status_quo is not None
    if sealed:
        issues["sealed"] = {"label": "The deal is sealed", "unit": "yes (1) or no (0)", "range": [0.0, 1.0]}

    def party(ideal: float, delta: float, option: float) -> dict:
        preferences = {"share": {"ideal": ideal, "salience": 1.0 - sealed_weight if sealed else 1.0}}
        if sealed:
            preferences["sealed"] = {"ideal": 1.0, "salience": sealed_weight}
        return {"label": "party", "role": "party", "capability": 1.0, "patience": float(delta), "risk": 0.0,
                "outside_option": {"value": float(option), "label": "disagreement"}, "strategy": strategy,
                "preferences": preferences}  # fmt: skip

    data = {
        "name": "pie",
        "question": "How is a pie of 1 divided?",
        "seed": "-",
        "start_date": "2025-01-01",
        "issues": issues,
        "actors": {"one": party(1.0, patience[0], outside[0]), "two": party(0.0, patience[1], outside[1])},
        "protocol": {"proposer": proposer, "horizon": horizon, "breakdown_risk": float(breakdown)},
    }
    if sealed:
        data["status_quo"] = {"label": "no deal yet", "positions": {"share": status_quo, "sealed": 0.0},
                              "after_breakdown": "outside_options"}  # fmt: skip
    return Scenario.model_validate(data)


def first_round_share(spec: Scenario, runs: int = 1) -> tuple[float, float]:
    """Party one's agreed share and the round of agreement (NaN and 0 without one) in run 0."""
    result = simulate(spec, np.arange(runs), 0).results()
    agreed = result["status"][0] == "agreement"
    return (float(result["term_share"][0]) if agreed else math.nan), float(result["round"][0])


def rubinstein() -> list[Check]:
    out = []
    case = "Rubinstein"
    table = [
        ((0.9, 0.9), 0.526316),
        ((0.9, 0.8), 0.714286),
        ((0.8, 0.9), 0.357143),
        ((0.95, 0.95), 0.512821),
        ((0.99, 0.99), 0.502513),
        ((0.5, 0.5), 2 / 3),
        ((0.9, 0.5), 0.909091),
    ]
    for deltas, share in table:
        got, round_ = first_round_share(pie_scenario(deltas))
        out += checks(case, [(f"x1 at delta = {deltas}", share, got)], decimals(6))
        out += checks(case, [(f"agreed in round 1 at {deltas}", 1, round_)], 0)
    for step, share in ((1, 0.683188), (0.1, 0.668332), (0.001, 0.666683)):
        deltas = (math.exp(-0.05 * step), math.exp(-0.10 * step))
        out += checks(
            case, [(f"x1, r = (.05, .10), step {step}", share, first_round_share(pie_scenario(deltas))[0])], decimals(6)
        )
    for horizon, share in ((1, 1.0), (2, 0.1), (3, 0.91), (4, 0.181), (5, 0.8371), (10, 0.342801), (50, 0.523603)):
        got = first_round_share(pie_scenario((0.9, 0.9), horizon=horizon, infinite=False))[0]
        out += checks("Rubinstein finite horizon", [(f"x1, T = {horizon}", share, got)], decimals(6))
    for option, share in ((0.3, 0.526316), (0.6, 0.4)):
        got = first_round_share(pie_scenario((0.9, 0.9), outside=(0.0, option)))[0]
        out += checks("outside option", [(f"x1 with b2 = {option}", share, got)], decimals(6))
    return out


def nash_limit() -> list[Check]:
    out = []
    case = "breakdown risk"
    got = first_round_share(pie_scenario((1.0, 1.0), breakdown=0.1))[0]
    out += checks(case, [("q = 0.1, no discounting: as delta = 0.9", 0.526316, got)], decimals(6))
    gaps = []
    for q in (0.1, 0.01, 0.001):
        share = first_round_share(pie_scenario((1.0, 1.0), outside=(0.2, 0.1), breakdown=q))[0]
        gaps.append(abs(share - 0.55))
        out += checks(case, [(f"x1, d = (.2, .1), q = {q}", (1 + (1 - q) * 0.2 - 0.1) / (2 - q), share)], 1e-9)
    out += checks(case, [("Nash split .55 approached as q -> 0", 0.55, 0.55 + gaps[-1])], 1e-3)
    out += checks(case, [("gap to .55 shrinks with q", 1, float(gaps[0] > gaps[1] > gaps[2]))], 0)
    return out


def unanimity() -> list[Check]:
    out = []
    case = "unanimity"
    for n, delta in ((3, 0.9), (5, 0.9), (7, 0.8), (2, 0.9)):
        _, keeps = division_shares(np.full(n, delta), np.full(n, 1 / n))
        out += checks(case, [(f"proposer keeps, n = {n}, delta = {delta}", 1 - delta * (n - 1) / n, keeps[0])], 1e-12)
    got = first_round_share(pie_scenario((0.9, 0.9), proposer="capability"))[0]  # either party may propose
    out += checks(case, [("engine, n = 2, random recognition: proposer keeps", 0.55, max(got, 1 - got))], decimals(6))
    return out


def muthoo_share(deltas, status_quo: float, w: float, option: float = 0.0) -> float:
    """Party one's share x of the pie when it proposes first, from Muthoo's closed forms (module notes)."""
    d1, d2 = deltas
    b1, b2, pie = w * status_quo, w * (1 - status_quo), 2 - w
    u1 = b1 + (1 - d2) / (1 - d1 * d2) * (pie - b1 - b2)
    if option > pie - u1:  # player 2's outside option binds
        u1 = pie - option
    return (u1 - (1 - w)) / w


def inside_options() -> list[Check]:
    out = []
    case = "inside options"
    for deltas, quo, w in (((0.9, 0.9), 0.5, 0.5), ((0.9, 0.8), 0.5, 0.5), ((0.95, 0.9), 0.2, 0.4),
                           ((0.9, 0.9), 0.9, 0.6)):  # fmt: skip
        got = first_round_share(pie_scenario(deltas, status_quo=quo, sealed_weight=1 - w))[0]
        want = muthoo_share(deltas, quo, w)
        out += checks(case, [(f"x1, delta = {deltas}, status quo {quo}, w = {w}", want, got)], 1e-9)
    for option in (0.7, 0.8):  # the inside options alone give player 2 about .724: .8 binds, .7 does not
        want = muthoo_share((0.9, 0.9), 0.5, 0.5, option)
        got = first_round_share(pie_scenario((0.9, 0.9), outside=(0.0, option), status_quo=0.5, sealed_weight=0.5))[0]
        out += checks(case, [(f"x1 with an inside option and w2 = {option}", want, got)], 1e-9)
    out += checks(case, [("closed form: the option .8 binds (x1 = 1 - 2 (.8 - .5))", 0.4,
                          muthoo_share((0.9, 0.9), 0.5, 0.5, 0.8))], 1e-12)  # fmt: skip
    return out


def status_quo_holds() -> list[Check]:
    """A status quo one party prefers to every package the other would accept never ends in a deal."""
    data = {
        "name": "held",
        "question": "Does a party that prefers the status quo ever agree?",
        "seed": "-",
        "start_date": "2025-01-01",
        "issues": {"port": {"label": "Port access", "unit": "level", "range": [0, 100]}},
        "actors": {
            name: {
                "label": name,
                "role": "party",
                "capability": 1.0,
                "risk": {"dist": "uniform", "low": 0, "high": 1},
                "patience": {"dist": "uniform", "low": 0.9, "high": 1.0},
                "outside_option": {"value": {"dist": "uniform", "low": 0.2, "high": 0.4}, "label": "elsewhere"},
                "strategy": {"kind": "conceder", "deadline": {"dist": "uniform", "low": 2, "high": 30}},
                "preferences": {"port": {"ideal": ideal, "salience": 1.0}},
            }
            for name, ideal in (("user", 100), ("host", 0))
        },
        "protocol": {"horizon": 60, "breakdown_risk": 0.0},
        "status_quo": {
            "label": "closed",
            "positions": {"port": {"dist": "uniform", "low": 0, "high": 5}},
            "after_breakdown": "status_quo",
        },
    }
    result = simulate(Scenario.model_validate(data), np.arange(2000), 3).results()
    agreed = float((result["status"] == "agreement").sum())
    ended = float(np.isin(result["status"], ["walkout", "no_deal"]).mean())
    return checks("status quo", [("agreements in 2,000 runs when the host prefers the status quo", 0, agreed),
                                 ("every run ends in a walkout or talks still open", 1, ended)], 0)  # fmt: skip


def tactics() -> list[Check]:
    """Properties that follow from Faratin, Sierra & Jennings's definitions, on random offer histories."""
    rng = np.random.default_rng(1998)
    n = 10_000
    last, floor = rng.uniform(0.5, 1.0, n), rng.uniform(0.0, 0.5, n)
    older = rng.uniform(0.5, 1.0, n)
    newer = older * rng.uniform(0.7, 1.0, n)  # the others conceded (or held)
    relative = relative_tft(last, newer, older, floor)
    unbounded = last * newer / older
    proportional = np.abs(relative - np.maximum(unbounded, floor)).max()
    ratio_kept = np.abs((relative / last)[unbounded > floor] - (newer / older)[unbounded > floor]).max()
    noise = rng.uniform(0, 0.05, n)
    draws = rng.uniform(0, 1, (n, 2))
    absolute = random_tft(last, newer, older, noise, floor, draws)
    off = np.abs(absolute - (last - (older - newer))) - noise
    history = OfferHistory(3, 2, 3)
    history.push(np.array([0, 1]), 1, np.array([0.9, 0.8]))
    held = relative_tft(np.full(3, 0.7), *history.others_mean(np.arange(3), [1], 0, 1), np.zeros(3))
    return checks("tactics", [
        ("relative tit-for-tat: own demand falls by the others' ratio", 0, proportional),
        ("relative tit-for-tat: the others' ratio reproduced above the reservation", 0, ratio_kept),
        ("every demand stays within [reservation, 1]", 1, float(((relative >= floor) & (relative <= 1)).all()
                                                                 and ((absolute >= floor) & (absolute <= 1)).all())),
        ("random tit-for-tat: within the noise of the others' concession (unclamped)", 0,
         float(np.maximum(off[(absolute > floor) & (absolute < 1)], 0).max())),
        ("until the others have made two offers, the demand stays", 0.7, float(held[0])),
    ], 1e-12)  # fmt: skip
