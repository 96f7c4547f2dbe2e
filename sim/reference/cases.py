"""Golden cases: the published numbers each reference model must reproduce (``basing reference``).

Each case is a function returning checks; a check compares a computed number with its published
value to a tolerance (a number published with k decimals is tested to +-0.5 * 10^-k). The numbers
and their sources are in the module docstrings of the models and in the project's reference notes.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np

from sim.influence import eum, smp, static
from sim.influence.pce import victory
from sim.reference.bargaining import inside_options, nash_limit, rubinstein, status_quo_holds, tactics, unanimity
from sim.reference.checks import Check, checks, decimals
from sim.scenario.imports import read_bdm, read_ktab

DATA = Path(__file__).resolve().parent / "data"


# --- EC car emissions: static baselines and the EUM ---------------------------------------------------

EC_ORDER = ["NL", "BE", "LU", "DE", "FR", "IT", "UK", "IE", "DK", "GR"]


def ec_static() -> list[Check]:
    table = read_bdm(DATA / "bdm" / "ec_car_emissions.csv")
    c, s, x = table.capability, table.salience, table.position
    case = "EC static"
    out = [Check(case, "c.s weighted mean", 7.389955686853766, static.weighted_mean(x, c * s), 1e-12)]
    out += checks(case, [("c weighted mean", 7.4752, static.weighted_mean(x, c))], decimals(4))
    out += checks(case, [("unweighted mean", 6.7, x.mean())], decimals(1))
    out += checks(
        case,
        [(f"c.s mass at {p}", m, (c * s)[x == p].sum()) for p, m in ((4, 0.248), (7, 0.093), (10, 0.336))],
        decimals(3),
    )
    out += checks(case, [("weighted median (c.s)", 7, static.weighted_median(x, c * s))], 0)
    votes = [(4, 7, -0.543), (7, 10, 0.015), (4, 10, -0.528)]
    out += checks(
        case, [(f"votes {a} over {b}", v, static.condorcet_votes(x, c * s, a, b)) for a, b, v in votes], decimals(3)
    )
    winner = [p for p in (4, 7, 10) if all(static.condorcet_votes(x, c * s, p, q) > 0 for q in (4, 7, 10) if q != p)]
    out += checks(case, [("Condorcet winner", 7, winner[0] if winner else math.nan)], 0)
    nbs = [(50, 7.28872), (100, 7.33783), (1000, 7.38461), (1e6, 7.38995)]
    out += checks(
        case, [(f"Nash bargaining y*, K = {k:g}", y, static.nash_bargaining(x, s, c, k)) for k, y in nbs], decimals(5)
    )
    return out


def ec_eum() -> list[Check]:
    table = read_bdm(DATA / "bdm" / "ec_car_emissions.csv")
    c, s, x = table.capability[None], table.salience[None], table.position[None]
    case = "EC EUM"
    path = eum.run_eum(c, s, x, 10)
    means = [
        7.389956,
        7.461314,
        7.552501,
        7.590145,
        7.358131,
        7.349174,
        7.414878,
        7.510457,
        7.572447,
        7.324989,
        7.242131,
    ]
    out = checks(
        case,
        [(f"mean after round {t}", m, eum.weighted_mean(c, s, path[t])[0]) for t, m in enumerate(means)],
        decimals(6),
    )
    delta = np.array([6.0])
    danger, risk = eum.risk_exponents(c, s, x, delta)
    dangers = [
        -5.249283,
        1.428336,
        5.437679,
        -5.249283,
        -2.093933,
        -2.093933,
        -8.640899,
        5.607084,
        -8.811603,
        -2.750413,
    ]
    exponents = [1.405653, 0.754196, 0.508864, 1.405653, 1.046524, 1.046524, 1.964898, 0.5, 2.0, 1.112125]
    out += checks(
        case,
        [(f"round-1 danger {a}", d, danger[0, i]) for i, (a, d) in enumerate(zip(EC_ORDER, dangers, strict=True))],
        decimals(6),
    )
    out += checks(
        case,
        [(f"round-1 r {a}", r, risk[0, i]) for i, (a, r) in enumerate(zip(EC_ORDER, exponents, strict=True))],
        decimals(6),
    )
    holders = {4: 0, 7: 1, 10: 4}  # an actor holding each position: NL 4, BE 7, FR 10
    for label, r, z_expected, z_decimals, probs in (
        ("all r = 1", np.ones_like(x), 28.233, 3, (0.004392, 0.007597, 0.005950, 0.006039, 0.008784, 0.011901)),
        ("round-1 r", risk, 28.333460, 6, (0.003148, 0.008985, 0.004583, 0.007314, 0.008753, 0.011859)),
    ):
        v = eum.votes(c, s, x, r, delta)
        out += checks(case, [(f"Z ({label})", z_expected, np.abs(v).sum())], decimals(z_decimals))
        p = eum.win_probability(c, s, x, r, delta)[0]
        pairs = [(4, 7), (7, 4), (10, 7), (7, 10), (4, 10), (10, 4)]
        out += checks(
            case,
            [
                (f"P({a} beats {b}), {label}", e, p[holders[a], holders[b]])
                for (a, b), e in zip(pairs, probs, strict=True)
            ],
            decimals(6),
        )
    q = eum.quadrants(c, s, x, risk, delta)
    belgium = {
        "NL": (-0.4725, 0.2423),
        "LU": (0.6060, 0.2423),
        "FR": (-0.1148, 0.2433),
        "UK": (-0.6550, 0.2433),
        "DK": (-0.8320, 0.2423),
        "IE": (0.0, 0.0),
    }
    for actor, (x_value, y_value) in belgium.items():
        j = EC_ORDER.index(actor)
        out += checks(
            case,
            [(f"Belgium's X vs {actor}", x_value, q.x[0, 1, j]), (f"Belgium's Y vs {actor}", y_value, q.y[0, 1, j])],
            decimals(4),
        )
    moves = [(1, "BE", 8.4159), (1, "LU", 7), (1, "IE", 4), (4, "BE", 4.8009)]
    out += checks(case, [(f"{a} after round {t}", p, path[t][0, EC_ORDER.index(a)]) for t, a, p in moves], decimals(4))
    final = [4, 4.2915, 4.1448, 4, 10, 10, 10, 4.1448, 4, 7]
    out += checks(
        case,
        [(f"{a} after round 10", p, path[10][0, i]) for i, (a, p) in enumerate(zip(EC_ORDER, final, strict=True))],
        decimals(4),
    )
    return out


# --- KTAB SMP ----------------------------------------------------------------------------------------


def _soe():
    table = read_ktab(DATA / "ktab" / "SOE-Pol-Comp.csv")
    return table, table.position[None] / 100, table.salience[None] / 100, table.capability[None]


def ktab_turn0() -> list[Check]:
    table, x, s, c = _soe()
    names = table.actors
    case = "KTAB SOE turn 0"
    options = smp.SmpOptions()
    view = smp.assess(x, s, c, options)
    u0 = [1.0, 0.5920, 0.9553, 0.7665, 0.5877, 0.8882, 0.9368, 0.7000, 0.9553, 0.8090, 0.7172, 0.9000, 0.6360]
    out = checks(
        case,
        [(f"u0 XJ->{n}", u, 1 - view.d[0, 0, j]) for j, (n, u) in enumerate(zip(names, u0, strict=True))],
        decimals(4),
    )
    p = [0.3724, 0.0006, 0.0120, 0.2139, 0.0001, 0.0000, 0.0006, 0.0002, 0.0120, 0.2838, 0.0290, 0.0754, 0.0000]
    out += checks(
        case, [(f"PCE p {n}", e, view.p[0, i]) for i, (n, e) in enumerate(zip(names, p, strict=True))], decimals(4)
    )
    risk = [1.0, -0.4976, -0.4518, 0.3616, -0.4997, -0.5, -0.4975, -0.4994, -0.4518, 0.6433, -0.3833, -0.1961, -0.4999]
    out += checks(
        case, [(f"R {n}", e, view.risk[0, i]) for i, (n, e) in enumerate(zip(names, risk, strict=True))], decimals(4)
    )
    bargains = smp.propose(x, s, c, view, options)
    best = {
        "XJ": ("SHX", 0.7676, 0.0456, (34.83, 22.50)),
        "LK": ("XS", 0.8974, 0.4826, (44.80, 64.57)),
        "ZG": ("SHX", 0.7913, 0.2639, (32.85, 16.27)),
        "MK": ("MEP", 0.9361, 0.1977, (44.89, 44.98)),
        "LH": ("XS", 0.8682, 0.4920, (49.59, 64.44)),
        "XS": ("MEP", 0.1164, 0.0359, (29.63, 14.73)),
        "NEA": ("XS", 0.9768, 0.0714, (20.00, 15.00)),
        "MLR": ("NEA", 0.8965, 0.4244, (59.72, 49.81)),
        "MEP": ("XS", 0.8849, 0.1520, (29.64, 14.74)),
        "MOF": ("XS", 0.7667, 0.1157, (42.94, 38.75)),
        "SHX": ("MEP", 0.9113, 0.3400, (49.93, 49.96)),
        "HLJ": ("XS", 0.9322, 0.1448, (19.99, 29.93)),
        "WY": ("MEP", 0.9602, 0.4215, (15.01, 59.99)),
    }
    for actor, (target, p_ij, gain, point) in best.items():
        i, j = names.index(actor), names.index(target)
        out += checks(case, [(f"{actor} targets {target}", j, bargains.target[0, i])], 0)
        out += checks(
            case,
            [
                (f"P {actor}->{target}", p_ij, bargains.p[0, i]),
                (f"dEU {actor}->{target}", gain, bargains.gain[0, i, j]),
            ],
            decimals(4),
        )
        out += checks(
            case,
            [(f"bI {actor} dim {k + 1}", v, 100 * bargains.initiator[0, i, k]) for k, v in enumerate(point)],
            decimals(2),
        )
    shx = names.index("SHX")
    out += checks(
        case,
        [(f"bR SHX->MEP dim {k + 1}", v, 100 * bargains.receiver[0, shx, k]) for k, v in enumerate((49.93, 49.95))],
        decimals(2),
    )
    xj = names.index("XJ")
    effect = smp.challenge_effect(x, s, c, view, options, perspective=xj, initiator=xj, target=shx, affected=shx)
    out += checks(case, [("XJ->SHX: effect on SHX seen by XJ", -0.0883, effect[0])], decimals(4))
    seen_by_shx = smp.challenge(view.a, c, s.sum(axis=2), options)[0, shx, xj, shx]
    on_xj = smp.challenge_effect(x, s, c, view, options, perspective=shx, initiator=xj, target=shx, affected=xj)
    on_shx = smp.challenge_effect(x, s, c, view, options, perspective=shx, initiator=xj, target=shx, affected=shx)
    out += checks(
        case,
        [
            ("XJ->SHX: P seen by SHX", 0.8775, seen_by_shx),
            ("XJ->SHX: effect on XJ seen by SHX", 0.2065, on_xj[0]),
            ("XJ->SHX: effect on SHX seen by SHX", -0.2565, on_shx[0]),
        ],
        decimals(4),
    )
    return out


def ktab_run() -> list[Check]:
    table, x, s, c = _soe()
    names = table.actors
    case = "KTAB SOE run"
    result = smp.run_smp(x, s, c)
    out = checks(case, [("number of states", 28, result.states[0])], 0)
    ratios = [
        0.9998,
        1.5581,
        1.2760,
        1.4887,
        1.4125,
        0.8069,
        1.7788,
        0.4293,
        0.5887,
        0.6602,
        0.6056,
        0.4835,
        0.4244,
        0.4397,
        0.4707,
        0.3588,
        0.4639,
        0.2364,
        0.3635,
        0.2055,
        0.9350,
        0.1869,
        0.1801,
        0.0550,
        0.0930,
        0.0874,
        0.0083,
    ]
    out += checks(case, [(f"ratio t = {t + 1}", r, result.ratios[t, 0]) for t, r in enumerate(ratios)], decimals(4))
    first = np.sqrt(((result.positions[1][0] - result.positions[0][0]) ** 2).sum(axis=1)).sum() + 1e-4
    out += checks(case, [("dist(s1, s0) + 1e-4", 0.447234, first)], decimals(6))
    state1 = [
        (30.00, 20.00),
        (44.80, 64.57),
        (30.00, 15.00),
        (44.89, 44.98),
        (49.59, 64.44),
        (42.94, 38.75),
        (20.00, 15.00),
        (59.72, 49.81),
        (29.64, 14.74),
        (42.94, 38.75),
        (49.93, 49.96),
        (19.99, 29.93),
        (15.00, 60.00),
    ]
    final = [
        (43.18, 43.30),
        (43.23, 43.27),
        (38.66, 28.82),
        (38.57, 28.79),
        (38.66, 28.82),
        (38.59, 29.52),
        (38.72, 28.97),
        (38.72, 28.97),
        (38.71, 28.95),
        (38.82, 30.72),
        (38.82, 30.77),
        (38.82, 30.77),
        (15.00, 60.00),
    ]
    for label, positions, expected, tolerance in (
        ("state 1", result.positions[1][0], state1, decimals(2)),
        ("final", result.final()[0], final, 1e-6),
    ):
        out += checks(
            case,
            [
                (f"{label} {n} dim {k + 1}", e[k], 100 * positions[i, k])
                for i, (n, e) in enumerate(zip(names, expected, strict=True))
                for k in range(2)
            ],
            tolerance,
        )
    win_final = [0.2299, 0.2299, 0.1104, 0.1104, 0.1104, 0.2202, 0.2063, 0.2063, 0.2063, 0.2330, 0.2330, 0.2330, 0.0002]
    out += checks(
        case,
        [
            (f"final win probability {n}", w, result.win[0, i])
            for i, (n, w) in enumerate(zip(names, win_final, strict=True))
        ],
        decimals(4),
    )
    view0 = smp.assess(x, s, c, smp.SmpOptions())
    win0 = smp.win_probabilities(x, c, view0, smp.SmpOptions())
    win_start = [0.0618, 0.0156, 0.0117, 0.4340, 0.0028, 0.0000, 0.0020, 0.0013, 0.0117, 0.2481, 0.1533, 0.0689, 0.0005]
    out += checks(
        case,
        [
            (f"state-0 win probability {n}", w, win0[0, i])
            for i, (n, w) in enumerate(zip(names, win_start, strict=True))
        ],
        decimals(4),
    )
    weight = (c[0] * s[0].T).T  # c.s per actor and dimension
    means = [("initial c.s mean", x[0], (36.29, 38.89)), ("final c.s mean", result.final()[0], (37.28, 36.85))]
    for label, positions, expected in means:
        got = 100 * (weight * positions).sum(axis=0) / weight.sum(axis=0)
        out += checks(case, [(f"{label} dim {k + 1}", expected[k], got[k]) for k in range(2)], decimals(2))
    medians = [static.weighted_median(100 * x[0, :, k], weight[:, k]) for k in range(2)]
    out += checks(
        case, [(f"initial c.s weighted median dim {k + 1}", e, medians[k]) for k, e in enumerate((45, 40))], 0
    )
    return out


def ktab_general() -> list[Check]:
    """KTAB's second input (3 dimensions) must run and converge; no published numbers."""
    table = read_ktab(DATA / "ktab" / "dummyData_3Dim.csv")
    result = smp.run_smp(table.position[None] / 100, table.salience[None] / 100, table.capability[None])
    stopped = result.states[0] < smp.SmpOptions().max_steps + 1
    last = result.ratios[result.states[0] - 2, 0]
    return [Check("KTAB dummy 3-D", "converged before 100 steps", 1.0, float(stopped and last < 0.02), 0)]


def victory_laws() -> list[Check]:
    table = {
        "linear": (0.666667, 0.75, 0.5238),
        "square": (0.8, 0.9, 0.5475),
        "quartic": (0.941176, 0.987805, 0.5942),
        "octic": (0.996109, 0.999848, 0.6819),
    }
    out = []
    for law, values in table.items():
        for (a, b), e in zip(((2, 1), (3, 1), (11, 10)), values, strict=True):
            k = len(f"{e}".split(".")[1])
            out += checks("victory laws", [(f"{law} {a}:{b}", e, victory(np.array(a), np.array(b), law))], decimals(k))
    for (a, b), e in (
        ((2, 1), 0.999999),
        ((3, 1), 0.999999),
        ((1.05, 1), 0.756098),
        ((1.02, 1), 0.603960),
        ((1, 1), 0.5),
    ):
        got = victory(np.array(a), np.array(b), "binary")
        out += checks("victory laws", [(f"binary {a}:{b}", e, got)], decimals(6))
    return out


CASES: dict[str, Callable[[], list[Check]]] = {
    "ec-static": ec_static,
    "ec-eum": ec_eum,
    "ktab-turn0": ktab_turn0,
    "ktab-run": ktab_run,
    "ktab-3d": ktab_general,
    "victory-laws": victory_laws,
    "rubinstein": rubinstein,
    "nash-limit": nash_limit,
    "unanimity": unanimity,
    "inside-options": inside_options,
    "status-quo": status_quo_holds,
    "tactics": tactics,
}


def run_all(names: list[str] | None = None) -> list[Check]:
    """Every check of the named cases (default: all)."""
    return [check for name in (names or list(CASES)) for check in CASES[name]()]


__all__ = ["CASES", "Check", "run_all"]
