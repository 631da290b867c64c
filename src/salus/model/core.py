"""The compartmental core: structure, transition matrix and the weekly simulation loop.

Pure NumPy/SciPy: no Django, no database, so it runs on any worker process.

State layout (252 compartments per parameter sample)::

    current injectors: OST (4) x setting (5) x HIV (4) x HCV (3) = 240
    former injectors:                         HIV (4) x HCV (3) =  12

    OST:     0 first 4 weeks on OST, 1 rest of OST, 2 first 4 weeks after leaving, 3 off
    setting: 0 community, 1 community on high-coverage NSP, 2 prison,
             3 weeks 1-2 after release, 4 weeks 3-4 after release
    HIV:     0 susceptible, 1 undiagnosed, 2 diagnosed not on ART, 3 on ART
    HCV:     0 susceptible (never infected or cleared), 1 chronic, 2 cured (can be reinfected)

All linear transitions (OST and NSP enrolment, prison, diagnosis, treatment, cessation,
relapse, deaths) are constant for a run, so they form one sparse matrix built once. Each weekly
step is then a single sparse matrix-vector product plus the two infection terms, whose force of
infection depends on the current state. The matrix is block-diagonal over parameter samples, so
one product advances every sample at once.

Within a step, competing rates out of a compartment are turned into probabilities exactly
(``1 - exp(-total_rate * dt)`` split in proportion to the rates); infection uses the explicit
Euler flow ``force * dt``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

try:  # the low-level kernel skips scipy's per-call checks (about 2x faster per step)
    from scipy.sparse._sparsetools import csr_matvec as _csr_matvec
except ImportError:  # pragma: no cover - private scipy API moved
    _csr_matvec = None


def _kernel_accumulates() -> bool:
    """The loop relies on the kernel adding A @ x to y (y += A x); check it once."""
    if _csr_matvec is None:
        return False
    y = np.ones(1)
    _csr_matvec(1, 1, np.array([0, 1]), np.array([0]), np.array([2.0]), np.array([3.0]), y)
    return bool(y[0] == 7.0)


if not _kernel_accumulates():  # pragma: no cover - fall back to scipy's public API
    _csr_matvec = None

DT = 1.0 / 52.0  # years per step: one week
STEPS_PER_YEAR = 52

N_OST, N_SETTING, N_HIV, N_HCV = 4, 5, 4, 3
OST_EARLY, OST_ON, OST_LEFT_EARLY, OST_OFF = range(4)
COMMUNITY, NSP, PRISON, RELEASED_1_2, RELEASED_3_4 = range(5)
HIV_S, HIV_U, HIV_D, HIV_A = range(4)
HCV_S, HCV_C, HCV_T = range(3)

N_CURRENT = N_OST * N_SETTING * N_HIV * N_HCV
N_FORMER = N_HIV * N_HCV
N = N_CURRENT + N_FORMER

# exit rate of a four-week tunnel state and of a two-week one (1/year)
FOUR_WEEK_EXIT = 52.0 / 4.0
TWO_WEEK_EXIT = 52.0 / 2.0
# coverage fractions are clipped below 1 when turned into enrolment rates
MAX_COVERAGE = 0.95

INTERVENTIONS = ("nsp", "ost", "art", "hiv_testing", "hcv_treatment", "naloxone")
FLOW_KINDS = ("death_overdose", "death_hiv", "death_hcv", "death_other", "cessation", "relapse")


def current_index(o, s, h, c):
    """Index of a current-injector compartment (arrays broadcast)."""
    return ((np.asarray(o) * N_SETTING + s) * N_HIV + h) * N_HCV + c


def former_index(h, c):
    """Index of a former-injector compartment."""
    return N_CURRENT + np.asarray(h) * N_HCV + c


# coordinates of every current compartment, in index order
_O, _S, _H, _C = (a.ravel() for a in np.indices((N_OST, N_SETTING, N_HIV, N_HCV)))
_FH, _FC = (a.ravel() for a in np.indices((N_HIV, N_HCV)))
_CUR = np.arange(N_CURRENT)
_FOR = np.arange(N_CURRENT, N)


def _mask(cur=None, former=None) -> np.ndarray:
    m = np.zeros(N, dtype=bool)
    if cur is not None:
        m[:N_CURRENT] = cur
    if former is not None:
        m[N_CURRENT:] = former
    return m


MASKS: dict[str, np.ndarray] = {
    "current": _mask(True),
    "former": _mask(None, True),
    "community": _mask(_S != PRISON),
    "prison": _mask(_S == PRISON),
    "on_ost": _mask(_O <= OST_ON),
    "on_nsp": _mask(_S == NSP),
    "hiv_positive": _mask(_H != HIV_S, _FH != HIV_S),
    "hiv_untreated": _mask((_H == HIV_U) | (_H == HIV_D), (_FH == HIV_U) | (_FH == HIV_D)),
    "hiv_diagnosed_not_on_art": _mask(_H == HIV_D, _FH == HIV_D),
    "on_art": _mask(_H == HIV_A, _FH == HIV_A),
    "hcv_chronic": _mask(_C == HCV_C, _FC == HCV_C),
    "current_hiv_positive": _mask(_H != HIV_S),
    "current_hcv_chronic": _mask(_C == HCV_C),
}


def annual_probability_to_rate(p):
    """Rate (1/year) whose one-year probability is ``p`` (clipped at 0.99)."""
    return -np.log1p(-np.clip(p, 0.0, 0.99))


def coverage_to_enrolment_rate(coverage, exit_rate):
    """Enrolment rate (1/year) giving a steady-state share ``coverage`` of the eligible pool.

    In steady state enrolment from the pool balances every exit from the programme (leaving,
    and also stopping injecting, death or prison, whose replacements arrive off the
    programme): ``rate x (1 - c) = exit_rate x c``.
    """
    c = np.clip(coverage, 0.0, MAX_COVERAGE)
    return exit_rate * c / (1.0 - c)


def _programme_exits(params: dict) -> dict[str, np.ndarray]:
    """Rates (1/year, column per sample) at which places on OST, NSP and ART empty.

    Besides leaving the programme, stopping injecting, death and (for NSP) prison empty a
    place, and the people who replace them arrive off the programme.
    """
    cessation, other = _col(params, "cessation_rate"), _col(params, "other_mortality")
    return {
        "ost": _col(params, "ost_leaving_rate")
        + cessation
        + other * _col(params, "rr_other_mortality_ost")
        + _col(params, "overdose_mortality") * _col(params, "rr_overdose_ost"),
        "nsp": _col(params, "nsp_leaving_rate")
        + cessation
        + other
        + _col(params, "incarceration_rate")
        + _col(params, "overdose_mortality"),
        "art": _col(params, "art_dropout_rate")
        + _col(params, "hiv_mortality_art")
        + _col(params, "other_mortality"),
    }


def _community_share(params: dict) -> np.ndarray:
    """Steady-state share of PWID in the community (not in prison or just released)."""
    inc, rel = _col(params, "incarceration_rate"), _col(params, "prison_release_rate")
    prison_share = inc / (inc + rel)
    return 1.0 - prison_share * (1.0 + rel * 2.0 / TWO_WEEK_EXIT)


def enrolment_rates(params: dict, coverage: dict) -> dict[str, np.ndarray]:
    """Enrolment rates (1/year, (n_samples, 1)) that reach each coverage in steady state.

    OST: share of all PWID; NSP: share of all PWID, enrolled from the community only; ART:
    share of diagnosed people with HIV.
    """
    exits = _programme_exits(params)
    n = len(np.asarray(params["cessation_rate"]))

    def cov(k):
        return np.broadcast_to(np.ravel(np.asarray(coverage[k], float)), (n,))[:, None]

    return {
        "ost": coverage_to_enrolment_rate(cov("ost"), exits["ost"]),
        "nsp": coverage_to_enrolment_rate(cov("nsp") / _community_share(params), exits["nsp"]),
        "art": coverage_to_enrolment_rate(cov("art"), exits["art"]),
    }


def coverage_for_enrolment(params: dict, rates: dict[str, float]) -> dict[str, np.ndarray]:
    """Inverse of ``enrolment_rates``: steady-state coverage for given enrolment rates."""
    exits = _programme_exits(params)
    out = {}
    for k, r in rates.items():
        share = r / (r + exits[k])
        out[k] = (share * _community_share(params) if k == "nsp" else share)[:, 0]
    return out


class _Edges:
    """Collects transitions as (source, destination, rate per sample, kind)."""

    def __init__(self, n_samples: int):
        self.n_samples = n_samples
        self.src: list[np.ndarray] = []
        self.dst: list[np.ndarray] = []
        self.rate: list[np.ndarray] = []
        self.kind: list[np.ndarray] = []

    def add(self, src, dst, rate, kind: str = "move") -> None:
        src = np.atleast_1d(np.asarray(src, dtype=np.int64))
        dst = np.broadcast_to(np.asarray(dst, dtype=np.int64), src.shape)
        rate = np.broadcast_to(np.asarray(rate, dtype=float), (self.n_samples, src.size))
        self.src.append(src)
        self.dst.append(np.array(dst))
        self.rate.append(np.array(rate))
        self.kind.append(np.full(src.size, kind, dtype=object))

    def arrays(self):
        return (
            np.concatenate(self.src),
            np.concatenate(self.dst),
            np.concatenate(self.rate, axis=1),
            np.concatenate(self.kind),
        )


def _col(params: dict, name: str) -> np.ndarray:
    """Parameter ``name`` as a column (n_samples, 1) for broadcasting over compartments."""
    return np.asarray(params[name], dtype=float)[:, None]


# Rows of one sample's operator, in blocks of N (see _pattern):
ACC, ENTRY, TRANS, HIV_FLOW, HCV_FLOW, SUMS = (i * N for i in range(6))
ROWS_PER_SAMPLE = SUMS + 6


@dataclass
class _Pattern:
    """Sparsity pattern of one sample's operator; fixed by the structure, computed once."""

    order: np.ndarray  # edges sorted by source compartment
    starts: np.ndarray  # first sorted edge of each compartment (every one has an exit)
    kind_rows: dict[str, np.ndarray]  # flow kind -> boolean edge selector
    sus_h: np.ndarray
    sus_c: np.ndarray
    assembly: sp.csr_array  # (raw entries, nnz): sums duplicates into CSR order
    indices: np.ndarray
    row_counts: np.ndarray


_PATTERN_CACHE: dict[int, _Pattern] = {}


def _sum_masks() -> tuple[np.ndarray, ...]:
    """Compartments entering each force-of-infection sum (structurally non-zero terms).

    Sums: HIV infectious pool, HIV risk-weighted pool size, HCV infectious pool, HCV pool size,
    HIV-susceptible risk, HCV-susceptible risk (chronic excluded).
    """
    every = np.ones(N_CURRENT, dtype=bool)
    return (_H != HIV_S, every, _C == HCV_C, every, _H == HIV_S, _C != HCV_C)


def _pattern(src: np.ndarray, dst: np.ndarray, kind: np.ndarray) -> _Pattern:
    key = src.size
    if key in _PATTERN_CACHE:
        return _PATTERN_CACHE[key]
    order = np.argsort(src, kind="stable")
    starts = np.searchsorted(src[order], np.arange(N))
    if not np.array_equal(np.unique(src), np.arange(N)):
        raise AssertionError("every compartment needs at least one exit (death)")
    kind_rows = {k: kind == k for k in FLOW_KINDS}
    for k, sel in kind_rows.items():
        if np.unique(src[sel]).size != sel.sum():
            raise AssertionError(f"flow kind {k} has two edges out of one compartment")
    sus_h = _H == HIV_S
    sus_c = _C != HCV_C
    to_u = current_index(_O[sus_h], _S[sus_h], HIV_U, _C[sus_h])
    to_c = current_index(_O[sus_c], _S[sus_c], _H[sus_c], HCV_C)
    # One sample's rows, in blocks of N:
    #   ACC      identity: the kernel adds x to these rows, which are never cleared within a
    #            year, so they accumulate the yearly sum of weekly states for free
    #   ENTRY    no entries: holds the constant weekly inflow of new injectors
    #   TRANS    the linear transitions
    #   HIV_FLOW, HCV_FLOW   infection flows per unit force of infection
    #   SUMS     six sums for the forces of infection
    r_parts = [
        ACC + np.arange(N),
        TRANS + dst[dst >= 0],
        TRANS + np.arange(N),
        HIV_FLOW + _CUR[sus_h],
        HIV_FLOW + to_u,
        HCV_FLOW + _CUR[sus_c],
        HCV_FLOW + to_c,
    ]
    c_parts = [
        np.arange(N),
        src[dst >= 0],
        np.arange(N),
        _CUR[sus_h],
        _CUR[sus_h],
        _CUR[sus_c],
        _CUR[sus_c],
    ]
    # the six force-of-infection sums keep only the compartments that can contribute
    for i, m in enumerate(_sum_masks()):
        r_parts.append(np.full(int(m.sum()), SUMS + i))
        c_parts.append(_CUR[m])
    rows = np.concatenate(r_parts)
    cols = np.concatenate(c_parts)
    keys = rows * N + cols
    unique, inverse = np.unique(keys, return_inverse=True)
    assembly = sp.csr_array(
        (np.ones(keys.size), (np.arange(keys.size), inverse)), shape=(keys.size, unique.size)
    )
    pat = _Pattern(
        order=order,
        starts=starts,
        kind_rows=kind_rows,
        sus_h=sus_h,
        sus_c=sus_c,
        assembly=assembly,
        indices=(unique % N).astype(np.int64),
        row_counts=np.bincount(unique // N, minlength=ROWS_PER_SAMPLE),
    )
    _PATTERN_CACHE[key] = pat
    return pat


@dataclass
class Transitions:
    """Everything one run needs, built once from parameters and coverage."""

    matrix: sp.csr_array  # block-diagonal over samples; ROWS_PER_SAMPLE rows per sample
    flow_probability: dict[str, np.ndarray]  # kind -> (n_samples, N) per-step exit probability
    entries_per_step: np.ndarray  # (n_samples, N) new injectors added each step
    beta_hiv: np.ndarray  # (n_samples,)
    beta_hcv: np.ndarray
    n_samples: int


def build_transitions(
    params: dict, coverage: Mapping[str, float | np.ndarray], population: np.ndarray
) -> Transitions:
    """Build the weekly transition operator.

    Args:
        params: ``{name: array (n_samples,)}`` for every parameter in ``parameters.py``.
        coverage: ``{intervention: array (n_samples,) or float}``, fractions 0-1, for the six
            names in ``INTERVENTIONS``.
        population: (n_samples,) initial number of people who inject drugs; sets the
            constant inflow of new injectors.
    """
    n_samples = len(np.asarray(params["cessation_rate"]))
    cov = {
        k: np.broadcast_to(np.asarray(coverage[k], float), (n_samples,))[:, None]
        for k in INTERVENTIONS
    }
    e = _Edges(n_samples)
    o, s, h, c = _O, _S, _H, _C

    # OST with four-week tunnel states on starting and leaving
    ost_leave = _col(params, "ost_leaving_rate")
    enrol = enrolment_rates(params, cov)
    ost_start = enrol["ost"]
    off = (o == OST_OFF) | (o == OST_LEFT_EARLY)
    e.add(_CUR[off], current_index(OST_EARLY, s[off], h[off], c[off]), ost_start)
    m = o == OST_EARLY
    e.add(_CUR[m], current_index(OST_ON, s[m], h[m], c[m]), FOUR_WEEK_EXIT)
    m = o <= OST_ON
    e.add(_CUR[m], current_index(OST_LEFT_EARLY, s[m], h[m], c[m]), ost_leave)
    m = o == OST_LEFT_EARLY
    e.add(_CUR[m], current_index(OST_OFF, s[m], h[m], c[m]), FOUR_WEEK_EXIT)

    # NSP in the community, prison and the two post-release tunnel states
    nsp_leave = _col(params, "nsp_leaving_rate")
    m = s == COMMUNITY
    e.add(_CUR[m], current_index(o[m], NSP, h[m], c[m]), enrol["nsp"])
    m = s == NSP
    e.add(_CUR[m], current_index(o[m], COMMUNITY, h[m], c[m]), nsp_leave)
    m = s <= NSP
    e.add(_CUR[m], current_index(o[m], PRISON, h[m], c[m]), _col(params, "incarceration_rate"))
    m = s == PRISON
    e.add(
        _CUR[m], current_index(o[m], RELEASED_1_2, h[m], c[m]), _col(params, "prison_release_rate")
    )
    m = s == RELEASED_1_2
    e.add(_CUR[m], current_index(o[m], RELEASED_3_4, h[m], c[m]), TWO_WEEK_EXIT)
    m = s == RELEASED_3_4
    e.add(_CUR[m], current_index(o[m], COMMUNITY, h[m], c[m]), TWO_WEEK_EXIT)

    # HIV diagnosis and ART; the testing programme reaches current injectors only
    testing = annual_probability_to_rate(cov["hiv_testing"])
    background = _col(params, "hiv_background_diagnosis_rate")
    dropout = _col(params, "art_dropout_rate")
    art_start = enrol["art"]
    m = h == HIV_U
    e.add(_CUR[m], current_index(o[m], s[m], HIV_D, c[m]), background + testing)
    e.add(
        former_index(HIV_U, _FC[_FH == HIV_U]), former_index(HIV_D, _FC[_FH == HIV_U]), background
    )
    for src_h, dst_h, rate in ((HIV_D, HIV_A, art_start), (HIV_A, HIV_D, dropout)):
        m = h == src_h
        e.add(_CUR[m], current_index(o[m], s[m], dst_h, c[m]), rate)
        fm = _FH == src_h
        e.add(former_index(src_h, _FC[fm]), former_index(dst_h, _FC[fm]), rate)

    # HCV treatment: only successful courses move people to "cured"
    cure = annual_probability_to_rate(cov["hcv_treatment"]) * _col(params, "hcv_svr")
    m = c == HCV_C
    e.add(_CUR[m], current_index(o[m], s[m], h[m], HCV_T), cure)
    fm = _FC == HCV_C
    e.add(former_index(_FH[fm], HCV_C), former_index(_FH[fm], HCV_T), cure)

    # stopping and restarting injecting; people restart off OST, in the community
    e.add(_CUR, former_index(h, c), _col(params, "cessation_rate"), "cessation")
    e.add(
        _FOR, current_index(OST_OFF, COMMUNITY, _FH, _FC), _col(params, "relapse_rate"), "relapse"
    )

    # deaths (destination -1 leaves the model)
    ost_mult = np.ones((n_samples, N_OST))
    ost_mult[:, OST_ON] = np.asarray(params["rr_overdose_ost"])
    ost_mult[:, OST_EARLY] = ost_mult[:, OST_ON] * np.asarray(
        params["overdose_multiplier_ost_first_4_weeks"]
    )
    ost_mult[:, OST_LEFT_EARLY] = np.asarray(params["overdose_multiplier_after_ost_first_4_weeks"])
    naloxone = 1.0 - cov["naloxone"] * (1.0 - _col(params, "rr_overdose_naloxone"))
    setting_mult = np.concatenate(
        [
            naloxone,
            naloxone,
            _col(params, "overdose_multiplier_in_prison"),
            naloxone * _col(params, "overdose_multiplier_release_weeks_1_2"),
            naloxone * _col(params, "overdose_multiplier_release_weeks_3_4"),
        ],
        axis=1,
    )
    od = _col(params, "overdose_mortality") * ost_mult[:, o] * setting_mult[:, s]
    e.add(_CUR, -1, od, "death_overdose")
    hiv_death = np.zeros((n_samples, N_HIV))
    hiv_death[:, [HIV_U, HIV_D]] = _col(params, "hiv_mortality_untreated")
    hiv_death[:, HIV_A] = np.asarray(params["hiv_mortality_art"])
    e.add(_CUR, -1, hiv_death[:, h], "death_hiv")
    e.add(_FOR, -1, hiv_death[:, _FH], "death_hiv")
    e.add(_CUR[c == HCV_C], -1, _col(params, "hcv_mortality_chronic"), "death_hcv")
    e.add(_FOR[_FC == HCV_C], -1, _col(params, "hcv_mortality_chronic"), "death_hcv")
    other_on_ost = np.where(_O <= OST_ON, _col(params, "rr_other_mortality_ost"), 1.0)
    e.add(_CUR, -1, _col(params, "other_mortality") * other_on_ost, "death_other")
    e.add(_FOR, -1, _col(params, "other_mortality_former"), "death_other")

    src, dst, rate, kind = e.arrays()
    pat = _pattern(src, dst, kind)
    total_rate = np.add.reduceat(rate[:, pat.order], pat.starts, axis=1)  # (n_samples, N)
    with np.errstate(divide="ignore", invalid="ignore"):
        per_rate = np.where(total_rate > 0, -np.expm1(-total_rate * DT) / total_rate, DT)
    prob = rate * per_rate[:, src]  # (n_samples, n_edges) per-step probabilities
    stay = 1.0 - np.add.reduceat(prob[:, pat.order], pat.starts, axis=1)
    flow_probability = {}
    for k, sel in pat.kind_rows.items():
        flow = np.zeros((n_samples, N))
        flow[:, src[sel]] = prob[:, sel]  # each kind has at most one edge per compartment
        flow_probability[k] = flow

    # infection: acquisition risk and infectiousness weights (current injectors only)
    on_ost = _O <= OST_ON
    on_nsp = _S == NSP
    setting_risk = np.where(_S == PRISON, _col(params, "prison_injecting_risk"), 1.0)
    rr_h = np.where(on_ost, _col(params, "rr_hiv_ost"), 1.0) * np.where(
        on_nsp, _col(params, "rr_hiv_nsp"), 1.0
    )
    rr_c = np.select(
        [on_ost & on_nsp, on_ost, on_nsp],
        [_col(params, "rr_hcv_ost_nsp"), _col(params, "rr_hcv_ost"), _col(params, "rr_hcv_nsp")],
        1.0,
    )
    risk_h = rr_h * setting_risk  # (n_samples, N_CURRENT)
    risk_c = rr_c * setting_risk
    infectious_h = np.select(
        [(_H == HIV_U) | (_H == HIV_D), _H == HIV_A],
        [1.0, 1.0 - _col(params, "art_efficacy_injecting")],
        0.0,
    )
    infectious_h = np.broadcast_to(infectious_h, risk_h.shape)
    infectious_c = (_C == HCV_C).astype(float)
    chronic = 1.0 - _col(params, "hcv_spontaneous_clearance")
    sus_h, sus_c = pat.sus_h, pat.sus_c
    # values in the order of pat.rows/pat.cols (see _pattern)
    v_parts = [
        np.ones((n_samples, N)),
        prob[:, dst >= 0],
        stay,
        -risk_h[:, sus_h],
        risk_h[:, sus_h],
        -(risk_c * chronic)[:, sus_c],
        (risk_c * chronic)[:, sus_c],
    ]
    sums = (risk_h * infectious_h, risk_h, risk_c * infectious_c, risk_c, risk_h, risk_c)
    for w, m in zip(sums, _sum_masks(), strict=True):
        v_parts.append(np.broadcast_to(w, (n_samples, N_CURRENT))[:, m])
    data = np.concatenate(v_parts, axis=1) @ pat.assembly  # (n_samples, nnz), CSR order
    offsets = np.arange(n_samples)[:, None]
    indices = (pat.indices[None, :] + offsets * N).ravel()
    indptr = np.concatenate([[0], np.cumsum(np.tile(pat.row_counts, n_samples))]).astype(np.int64)
    matrix = sp.csr_array(
        (data.ravel(), indices, indptr), shape=(n_samples * ROWS_PER_SAMPLE, n_samples * N)
    )

    entries = np.zeros((n_samples, N))
    entries[:, current_index(OST_OFF, COMMUNITY, HIV_S, HCV_S)] = (
        np.asarray(params["initiation_rate"]) * population * DT
    )
    return Transitions(
        matrix=matrix,
        flow_probability=flow_probability,
        entries_per_step=entries,
        beta_hiv=np.asarray(params["hiv_transmission_rate"], float),
        beta_hcv=np.asarray(params["hcv_transmission_rate"], float),
        n_samples=n_samples,
    )


def initial_state(n_samples: int, params: dict, initial: dict) -> np.ndarray:
    """Distribute the starting population over compartments.

    Args:
        initial: ``pwid`` (people), ``former_per_pwid`` (people who formerly injected per
            current PWID), ``hiv_prevalence``, ``hiv_diagnosed`` (share of people with HIV
            who know), ``art`` (share of diagnosed on ART), ``hcv_prevalence`` (chronic),
            ``hcv_cured`` (share of all PWID cured of HCV), ``ost`` and ``nsp`` (shares on
            each at the start). Values may be floats or arrays (n_samples,).

    Returns:
        (n_samples, N) numbers of people. The dimensions are assumed independent.
    """

    def v(key):
        return np.broadcast_to(np.asarray(initial[key], float), (n_samples,))

    pwid, hiv, diag, art = v("pwid"), v("hiv_prevalence"), v("hiv_diagnosed"), v("art")
    hcv, cured, ost, nsp = v("hcv_prevalence"), v("hcv_cured"), v("ost"), v("nsp")
    ost_leave = np.asarray(params["ost_leaving_rate"], float)
    inc = np.asarray(params["incarceration_rate"], float)
    rel = np.asarray(params["prison_release_rate"], float)

    # steady-state shares of the tunnel states: inflow rate times the tunnel's duration
    p_ost_early = np.minimum(ost * ost_leave / FOUR_WEEK_EXIT, ost)
    p_left_early = np.minimum(ost * ost_leave / FOUR_WEEK_EXIT, 1 - ost)
    ost_share = np.stack(
        [p_ost_early, ost - p_ost_early, p_left_early, 1 - ost - p_left_early], axis=1
    )
    prison = inc / (inc + rel)
    rel12 = prison * rel / TWO_WEEK_EXIT
    community = 1 - prison - 2 * rel12
    setting_share = np.stack([community * (1 - nsp), community * nsp, prison, rel12, rel12], axis=1)
    hiv_share = np.stack(
        [1 - hiv, hiv * (1 - diag), hiv * diag * (1 - art), hiv * diag * art], axis=1
    )
    hcv_share = np.stack([1 - hcv - cured, hcv, cured], axis=1)

    x = np.zeros((n_samples, N))
    x[:, :N_CURRENT] = (
        pwid[:, None]
        * ost_share[:, _O]
        * setting_share[:, _S]
        * hiv_share[:, _H]
        * hcv_share[:, _C]
    )
    former = pwid * v("former_per_pwid")
    x[:, N_CURRENT:] = former[:, None] * hiv_share[:, _FH] * hcv_share[:, _FC]
    return x


@dataclass
class RawResult:
    """Per-year tallies of one run over ``n_samples`` parameter sets.

    Shapes: (years, n_samples) unless noted. Counts are people; person-years are years.
    """

    population_start: np.ndarray
    population_end: np.ndarray
    person_years: np.ndarray  # (years, n_samples, N)
    flows_current: dict[str, np.ndarray]  # kind -> people leaving current injecting per year
    flows_former: dict[str, np.ndarray]  # kind -> people leaving the former compartment
    initiation: np.ndarray
    new_hiv: np.ndarray
    new_hcv: np.ndarray
    state_end: np.ndarray  # (years, n_samples, N) state at each year end


def simulate(trans: Transitions, x0: np.ndarray, years: int) -> RawResult:
    """Advance ``x0`` (n_samples, N) for ``years`` years in weekly steps."""
    n_s = trans.n_samples
    rows_n = ROWS_PER_SAMPLE
    mat = trans.matrix
    x = np.ascontiguousarray(x0, dtype=float).ravel().copy()
    z = np.zeros(n_s * rows_n)
    entries = trans.entries_per_step
    z.reshape(n_s, rows_n)[:, ENTRY:TRANS] = entries
    bh_dt = trans.beta_hiv * DT
    bc_dt = trans.beta_hcv * DT

    pop_start = np.zeros((years, n_s))
    pop_end = np.zeros((years, n_s))
    sum_x = np.zeros((years, n_s, N))
    new_hiv = np.zeros((years, n_s))
    new_hcv = np.zeros((years, n_s))
    state_end = np.zeros((years, n_s, N))

    if n_s == 1:
        _loop_single(
            mat,
            x,
            z,
            years,
            float(bh_dt[0]),
            float(bc_dt[0]),
            pop_start[:, 0],
            pop_end[:, 0],
            sum_x[:, 0],
            new_hiv[:, 0],
            new_hcv[:, 0],
            state_end[:, 0],
        )
    else:
        _loop_batch(
            mat,
            x,
            z,
            years,
            bh_dt,
            bc_dt,
            pop_start,
            pop_end,
            sum_x,
            new_hiv,
            new_hcv,
            state_end,
        )

    cur, fmr = MASKS["current"], MASKS["former"]
    flows_current = {
        k: np.einsum("ysn,sn->ys", sum_x[:, :, cur], p[:, cur])
        for k, p in trans.flow_probability.items()
    }
    flows_former = {
        k: np.einsum("ysn,sn->ys", sum_x[:, :, fmr], p[:, fmr])
        for k, p in trans.flow_probability.items()
    }
    initiation = np.broadcast_to(entries.sum(axis=1) * STEPS_PER_YEAR, (years, n_s)).copy()
    return RawResult(
        population_start=pop_start,
        population_end=pop_end,
        person_years=sum_x * DT,
        flows_current=flows_current,
        flows_former=flows_former,
        initiation=initiation,
        new_hiv=new_hiv,
        new_hcv=new_hcv,
        state_end=state_end,
    )


def _step_operator(mat, x, z, zz):
    """z <- operator @ x, except that the ACC block accumulates and the ENTRY block stays."""
    zz[:, TRANS:] = 0.0
    if _csr_matvec is not None:
        _csr_matvec(mat.shape[0], mat.shape[1], mat.indptr, mat.indices, mat.data, x, z)
    else:  # pragma: no cover - the same result through scipy's public API
        y = (mat @ x).reshape(zz.shape)
        zz[:, ACC:ENTRY] += y[:, ACC:ENTRY]
        zz[:, TRANS:] = y[:, TRANS:]


def _loop_single(
    mat, x, z, years, bh_dt, bc_dt, pop_start, pop_end, sum_x, new_hiv, new_hcv, state_end
):
    """The weekly loop for one sample, kept to a handful of NumPy calls per step."""
    if _csr_matvec is None:  # pragma: no cover
        return _loop_batch(
            mat,
            x,
            z,
            years,
            np.array([bh_dt]),
            np.array([bc_dt]),
            pop_start[:, None],
            pop_end[:, None],
            sum_x[:, None],
            new_hiv[:, None],
            new_hcv[:, None],
            state_end[:, None],
        )
    current = MASKS["current"]
    acc = z[ACC:ENTRY]
    blocks = z[ENTRY:SUMS].reshape(4, N)  # entries, transitions, HIV flow, HCV flow
    sums = z[SUMS:]
    work = z[TRANS:]
    coef = np.ones(4)
    # local names: attribute look-ups cost as much as the arithmetic at this size
    n_rows, n_cols = mat.shape
    indptr, indices, data = mat.indptr, mat.indices, mat.data
    matvec, dot, clear = _csr_matvec, np.dot, work.fill
    for year in range(years):
        pop_start[year] = x[current].sum()
        acc.fill(0.0)
        hiv = hcv = 0.0
        for _ in range(STEPS_PER_YEAR):
            clear(0.0)
            matvec(n_rows, n_cols, indptr, indices, data, x, z)
            s0, s1, s2, s3, s4, s5 = sums.tolist()
            fh = bh_dt * s0 / s1 if s1 > 0 else 0.0
            fc = bc_dt * s2 / s3 if s3 > 0 else 0.0
            hiv += fh * s4
            hcv += fc * s5
            coef[2] = fh
            coef[3] = fc
            dot(coef, blocks, out=x)
        sum_x[year] = acc
        new_hiv[year] = hiv
        new_hcv[year] = hcv
        pop_end[year] = x[current].sum()
        state_end[year] = x


def _loop_batch(
    mat, x, z, years, bh_dt, bc_dt, pop_start, pop_end, sum_x, new_hiv, new_hcv, state_end
):
    """The weekly loop over a block-diagonal batch of samples."""
    n_s = len(bh_dt)
    current = MASKS["current"]
    zz = z.reshape(n_s, ROWS_PER_SAMPLE)
    xs = x.reshape(n_s, N)  # view: updated in place
    for year in range(years):
        pop_start[year] = xs[:, current].sum(axis=1)
        zz[:, ACC:ENTRY] = 0.0
        for _ in range(STEPS_PER_YEAR):
            _step_operator(mat, x, z, zz)
            sums = zz[:, SUMS:]
            # the pools are never empty while anyone injects; guard the all-dead edge case
            fh = bh_dt * sums[:, 0] / np.maximum(sums[:, 1], 1e-300)
            fc = bc_dt * sums[:, 2] / np.maximum(sums[:, 3], 1e-300)
            new_hiv[year] += fh * sums[:, 4]
            new_hcv[year] += fc * sums[:, 5]
            np.multiply(zz[:, HIV_FLOW:HCV_FLOW], fh[:, None], out=xs)
            xs += zz[:, TRANS:HIV_FLOW]
            xs += fc[:, None] * zz[:, HCV_FLOW:SUMS]
            xs += zz[:, ENTRY:TRANS]
        sum_x[year] = zz[:, ACC:ENTRY]
        pop_end[year] = xs[:, current].sum(axis=1)
        state_end[year] = xs
